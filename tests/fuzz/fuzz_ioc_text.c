/* Fuzz target: the reader of plain-text indicator lists (psi_ioc_read_buffer with
 * PSI_IOC_FORMAT_TEXT) and the set it fills; fuzz_ioc.h says what is checked. */
#include "fuzz_ioc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ioc_read(PSI_IOC_FORMAT_TEXT, data, size);
    return 0;
}
