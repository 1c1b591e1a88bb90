# Runs the smt_vectors tool and fails unless its output equals the committed
# tests/data/smt_vectors.json (regenerate with: smt_vectors tests/data/smt_vectors.json).
execute_process(COMMAND ${TOOL} ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "smt_vectors failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${REF} RESULT_VARIABLE diff)
if(NOT diff EQUAL 0)
  message(FATAL_ERROR "${REF} differs from the output of smt_vectors: regenerate it")
endif()
