/* CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of
 * LevelDB's log records and of iSCSI (RFC 3720), for detecting torn or
 * corrupted records in files the node writes itself (the consensus WAL and
 * the signer state). A checksum, not a MAC: it catches accidents, not an
 * adversary who can write the file. */
#ifndef OL_UTIL_CRC32C_H
#define OL_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of data appended to bytes whose CRC is crc (0 for none), so a
 * record can be checked in pieces: util_crc32c(util_crc32c(0, a, n), b, m)
 * is the CRC of a followed by b. Cannot fail. */
uint32_t util_crc32c(uint32_t crc, const void *data, size_t n);

#endif
