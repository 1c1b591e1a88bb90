/* Placeholder translation unit for a module that has no sources yet. */
typedef int util_empty_module_;
