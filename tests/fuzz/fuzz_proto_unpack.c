/* Fuzz target: protobuf-c unpacking of every message of proto/psi.proto, as
 * the hub and the client unpack bodies. The first byte chooses the message
 * (modulo their number; the list is made at build time from the generated
 * header, so a message added to psi.proto is fuzzed without a change here),
 * the rest is its encoding. A message that unpacks is packed again (its
 * packed size must be what pack writes) and freed.
 *
 * libprotobuf-c is a system library without coverage instrumentation, so
 * libFuzzer mutates here with little guidance; the project's own code behind
 * the unpacking is fuzzed by fuzz_hub_request and fuzz_request_sealed. No
 * round trip is asked for: protobuf-c 1.4 unpacks a field number 0 written
 * as a two-byte tag (82 00) but refuses the one-byte tag it packs it back to,
 * and the envelope refuses both anyway (it re-encodes what it unpacked). */
#include "fuzz.h"
#include "fuzz_proto_messages.h" /* fuzz_proto_messages[] */

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *out = malloc(*len + 1);
    if (out != NULL)
        FUZZ_CHECK(protobuf_c_message_pack(msg, out) == *len, "pack writes its packed size");
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = sizeof fuzz_proto_messages / sizeof fuzz_proto_messages[0];
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *type = fuzz_proto_messages[data[0] % count];
    ProtobufCMessage *msg = protobuf_c_message_unpack(type, NULL, size - 1, data + 1);
    if (msg == NULL)
        return 0;
    size_t len = 0;
    free(pack(msg, &len));
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}
