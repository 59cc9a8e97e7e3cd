/* fuzz-config.c - the configuration parser (admin policy, user file). */
#include "sdr-config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(SdrConfig) config = sdr_config_new();
	g_autoptr(GError) error = NULL;

	if (sdr_config_load_data(config, 2, (const char *)data, size, &error)) {
		g_autofree char *port = sdr_config_get_string(config, "bridge", "port", "0");
		g_auto(GStrv) origins = sdr_config_get_strv(config, "bridge", "allowed_origins");

		(void)sdr_config_get_int(config, "bridge", "max_body_mb", 100);
		(void)sdr_config_get_bool(config, "bridge", "nexu", FALSE);
		(void)sdr_config_is_locked(config, "tokens", "modules");
	}
	return 0;
}
