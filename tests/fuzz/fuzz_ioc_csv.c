/* Fuzz target: the reader of CSV files (delimiter, header and column detected)
 * (psi_ioc_read_buffer with PSI_IOC_FORMAT_CSV) and the set it fills; fuzz_ioc.h says what is
 * checked. */
#include "fuzz_ioc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ioc_read(PSI_IOC_FORMAT_CSV, data, size);
    return 0;
}
