#ifndef CCRC32C_H
#define CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Extends a CRC-32C (Castagnoli) over `length` bytes at `data`, starting from `crc`
/// (pass 0 for a fresh checksum). Thread-safe; uses SSE4.2 when the CPU has it,
/// slicing-by-8 tables otherwise.
uint32_t portask_crc32c(uint32_t crc, const void *data, size_t length);

/// The portable slicing-by-8 implementation, whatever the CPU. Thread-safe.
uint32_t portask_crc32c_software(uint32_t crc, const void *data, size_t length);

/// The SSE4.2 implementation; falls back to the software path when the CPU lacks SSE4.2.
/// Thread-safe.
uint32_t portask_crc32c_hardware(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware (SSE4.2) path is available on this CPU, 0 otherwise.
int portask_crc32c_hardware_available(void);

#endif
