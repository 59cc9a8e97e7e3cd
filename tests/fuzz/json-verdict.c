/* json-verdict.c - prints "1" (accepted) or "0" (refused) for each file named,
 * one a line: the bridge's JSON parser seen from outside, for
 * tests/fuzz/json-differential.py. */
#include "sdr-bridge-security.h"

#include <stdio.h>

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		g_autofree char *data = NULL;
		gsize len = 0;
		g_autoptr(JsonNode) root = NULL;

		if (!g_file_get_contents(argv[i], &data, &len, NULL))
			return 2;
		root = sdr_bridge_json_parse_object(data, len, NULL);
		printf("%d\n", root != NULL);
	}
	return 0;
}
