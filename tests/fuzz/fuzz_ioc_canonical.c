/* Fuzz target: canonicalisation of one value. The first byte chooses the type
 * (modulo PSI_IOC_TYPE_COUNT; PSI_IOC_NONE means untyped psi_ioc_canonicalise),
 * the rest is the value. A value kept must be a fixed point (typed, and for
 * untyped input also untyped) and must encode to "type:value". */
#include "fuzz_ioc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum psi_ioc_type type = (enum psi_ioc_type)(data[0] % PSI_IOC_TYPE_COUNT);
    const char *in = (const char *)data + 1;
    struct psi_ioc out;
    enum psi_ioc_skip why = PSI_IOC_SKIP_COUNT;
    int rc = type == PSI_IOC_NONE ? psi_ioc_canonicalise(in, size - 1, &out, &why)
                                  : psi_ioc_canonicalise_as(type, in, size - 1, &out, &why);
    if (rc == PSI_ERR_UNSUPPORTED) {
        FUZZ_CHECK(out.type == PSI_IOC_NONE && why < PSI_IOC_SKIP_COUNT,
                   "a refused value has no type and a reason");
        return 0;
    }
    FUZZ_CHECK(rc == 0, "canonicalisation returns 0 or PSI_ERR_UNSUPPORTED");
    FUZZ_CHECK(out.type != PSI_IOC_NONE && out.len <= PSI_IOC_VALUE_MAX &&
                   out.len == strlen(out.value),
               "a kept value has a type and is one string within PSI_IOC_VALUE_MAX");
    fuzz_ioc_check_fixed_point(out.type, out.value, out.len);
    if (type == PSI_IOC_NONE) {
        struct psi_ioc again;
        rc = psi_ioc_canonicalise(out.value, out.len, &again, &why);
        FUZZ_CHECK(rc == 0 && again.type == out.type && strcmp(again.value, out.value) == 0,
                   "an untyped canonical value is a fixed point of untyped canonicalisation");
    }
    unsigned char encoded[PSI_IOC_ENCODED_MAX];
    size_t encoded_len = 0;
    const char *name = psi_ioc_type_name(out.type);
    FUZZ_CHECK(
        psi_ioc_encode(out.type, out.value, out.len, encoded, sizeof encoded, &encoded_len) == 0 &&
            encoded_len == strlen(name) + 1 + out.len &&
            memcmp(encoded + strlen(name) + 1, out.value, out.len) == 0,
        "a kept value encodes to type:value");
    return 0;
}
