#ifndef CCRC32C_H
#define CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Extends a CRC-32C (Castagnoli) over `length` bytes at `data`, starting from `crc`
/// (pass 0 for a fresh checksum). Thread-safe; uses SSE4.2 when the CPU has it.
uint32_t portask_crc32c(uint32_t crc, const void *data, size_t length);

#endif
