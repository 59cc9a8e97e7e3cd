/* fuzz-json.c - the bridge's one JSON parser (sdr_bridge_json_parse_object):
 * never crashes, and what it accepts survives a round trip (serialised by
 * json-glib, parsed again, accepted again). The differential check against
 * Python's json module is tests/fuzz/json-differential.py. */
#include "sdr-bridge-security.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(JsonNode) root = sdr_bridge_json_parse_object((const char *)data, size, NULL);
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) again = NULL;

	if (root == NULL)
		return 0;
	text = json_to_string(root, FALSE);
	again = sdr_bridge_json_parse_object(text, strlen(text), NULL);
	if (again == NULL || !json_node_equal(root, again))
		abort();
	return 0;
}
