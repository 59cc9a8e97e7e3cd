/* replay.c - runs a fuzz harness over every file of its corpus folders, without
 * libFuzzer, so that `meson test` replays the corpora on every build. */
#include <glib.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_path(const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	gsize len = 0;
	int n = 0;

	if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, &error);
		const char *name;

		if (dir == NULL) {
			g_printerr("%s\n", error->message);
			return -1;
		}
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);
			int r = replay_path(child);

			if (r < 0)
				return r;
			n += r;
		}
		return n;
	}
	if (!g_file_get_contents(path, &data, &len, &error)) {
		g_printerr("%s\n", error->message);
		return -1;
	}
	/* libFuzzer hands a copy of exactly len bytes: do the same so ASan sees overreads. */
	{
		g_autofree uint8_t *copy = g_memdup2(data, len);

		LLVMFuzzerTestOneInput(copy, len);
	}
	return 1;
}

int
main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		int r = replay_path(argv[i]);

		if (r < 0)
			return 1;
		total += r;
	}
	g_print("replayed %d inputs\n", total);
	return total > 0 ? 0 : 1;
}
