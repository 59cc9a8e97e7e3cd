/* sdr-deploy.c - Chromium/Chrome managed policies and Firefox's policies.json from
 * the administrator's policy (sdr-deploy.h). */
#include "sdr-deploy.h"

#include "sdr-config-build.h"
#include "sdr-deploy-build.h"
#include "sdr-error.h"
#include "sdr-file.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_POLICY_FILE (4 * 1024 * 1024)

static const char *const chromium_keys[] = { "LocalNetworkAccessAllowedForUrls",
	                                     "LoopbackNetworkAllowedForUrls", NULL };

static const char *const rel_paths[SDR_DEPLOY_N_BROWSERS] = {
	"etc/chromium/policies/managed/" SDR_DEPLOY_NAME ".json",
	"etc/opt/chrome/policies/managed/" SDR_DEPLOY_NAME ".json",
	"etc/firefox/policies/policies.json",
};

const char *
sdr_deploy_browser_name(SdrDeployBrowser browser)
{
	switch (browser) {
	case SDR_DEPLOY_CHROMIUM:
		return "Chromium";
	case SDR_DEPLOY_CHROME:
		return "Google Chrome";
	case SDR_DEPLOY_FIREFOX:
	default:
		return "Firefox";
	}
}

const char *
sdr_deploy_p11kit_proxy(void)
{
	return SDR_P11KIT_PROXY;
}

static void
item_free(gpointer p)
{
	SdrDeployItem *it = p;

	g_free(it->path);
	g_free(it->action);
	g_free(it);
}

static char *
under_root(const char *root, const char *path)
{
	if (root == NULL || root[0] == '\0' || g_str_equal(root, "/"))
		return g_build_filename("/", path, NULL);
	return g_build_filename(root, path, NULL);
}

SdrConfig *
sdr_deploy_load_system_config(const char *root, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *defaults = NULL;
	g_autofree char *policy = NULL;

	if (g_getenv("SINADUR_SYSCONFDIR") != NULL && g_getenv("SINADUR_SYSCONFDIR")[0] != '\0')
		dir = g_strdup(sdr_config_sysconfdir());
	else
		dir = under_root(root, SDR_SYSCONFDIR);
	defaults = g_build_filename(dir, "sinadur.conf", NULL);
	policy = g_build_filename(dir, "policy.conf", NULL);
	return sdr_config_load_files(defaults, NULL, policy, error);
}

/* https://host or https://host:port, lower case, default port dropped. */
static char *
normalise_origin(const char *raw, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	const char *host, *path;
	int port;

	uri = g_uri_parse(raw, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_strcmp0(g_uri_get_scheme(uri), "https") != 0)
		goto invalid;
	host = g_uri_get_host(uri);
	path = g_uri_get_path(uri);
	if (host == NULL || host[0] == '\0' || g_uri_get_userinfo(uri) != NULL ||
	    g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL ||
	    (path[0] != '\0' && !g_str_equal(path, "/")) || strchr(raw, '*') != NULL)
		goto invalid;
	for (const char *p = host; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != ':')
			goto invalid;
	port = g_uri_get_port(uri);
	{
		g_autofree char *lhost = g_ascii_strdown(host, -1);
		gboolean v6 = strchr(lhost, ':') != NULL;

		if (port > 0 && port != 443)
			return g_strdup_printf(v6 ? "https://[%s]:%d" : "https://%s:%d", lhost,
			                       port);
		return g_strdup_printf(v6 ? "https://[%s]" : "https://%s", lhost);
	}

invalid:
	g_set_error(error, SDR_ERROR, SDR_ERROR_CONFIG,
	            _("[bridge] allowed_origins: “%s” is not a web origin "
	              "(https://name or https://name:port, without a path)."),
	            raw);
	return NULL;
}

GPtrArray *
sdr_deploy_origins(const SdrConfig *config, GError **error)
{
	g_auto(GStrv) list = sdr_config_get_strv(config, "bridge", "allowed_origins");
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

	for (gsize i = 0; list != NULL && list[i] != NULL; i++) {
		g_autofree char *raw = g_strstrip(g_strdup(list[i]));
		char *o;

		if (raw[0] == '\0')
			continue;
		o = normalise_origin(raw, error);
		if (o == NULL)
			return NULL;
		if (g_ptr_array_find_with_equal_func(out, o, g_str_equal, NULL))
			g_free(o);
		else
			g_ptr_array_add(out, o);
	}
	return g_steal_pointer(&out);
}

/* ---- JSON helpers ---------------------------------------------------------------- */

static char *
to_text(JsonNode *root)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autofree char *text = NULL;

	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	json_generator_set_indent(gen, 2);
	text = json_generator_to_data(gen, NULL);
	return g_strconcat(text, "\n", NULL);
}

/* The file's JSON; *exists FALSE (and NULL returned, no error) when absent. */
static JsonNode *
read_json(const char *path, gboolean *exists, GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) local = NULL;
	gsize len;
	const char *data;

	*exists = FALSE;
	bytes = sdr_file_read(path, MAX_POLICY_FILE, &local);
	if (bytes == NULL) {
		if (g_error_matches(local, SDR_ERROR, SDR_ERROR_NOT_FOUND))
			return NULL;
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	*exists = TRUE;
	data = g_bytes_get_data(bytes, &len);
	if (!json_parser_load_from_data(parser, data != NULL ? data : "", (gssize)len, &local) ||
	    json_parser_get_root(parser) == NULL ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("%s is not a JSON object (%s): fix or remove it, it was left "
		              "untouched."),
		            path, local != NULL ? local->message : _("not an object"));
		return NULL;
	}
	return json_node_copy(json_parser_get_root(parser));
}

static gboolean
write_text(const char *path, const char *text, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);

	if (g_mkdir_with_parents(dir, 0755) != 0) {
		int err = errno;

		g_set_error(error, SDR_ERROR,
		            err == EACCES || err == EPERM ? SDR_ERROR_POLICY : SDR_ERROR_IO,
		            _("Cannot create the folder %s (%s): run “sudo sinadur deploy "
		              "browsers”."),
		            dir, g_strerror(err));
		return FALSE;
	}
	return sdr_file_write_atomic(path, text, strlen(text), error);
}

/* Our Chromium policy for these origins. */
static char *
chromium_text(GPtrArray *origins)
{
	g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
	JsonObject *o = json_object_new();

	for (gsize k = 0; chromium_keys[k] != NULL; k++) {
		JsonArray *a = json_array_new();

		for (guint i = 0; i < origins->len; i++)
			json_array_add_string_element(a, g_ptr_array_index(origins, i));
		json_object_set_array_member(o, chromium_keys[k], a);
	}
	json_node_take_object(root, o);
	return to_text(root);
}

/* TRUE when root (an object) has exactly our keys with exactly these origins. */
static gboolean
chromium_matches(JsonNode *root, GPtrArray *origins)
{
	JsonObject *o = json_node_get_object(root);

	for (gsize k = 0; chromium_keys[k] != NULL; k++) {
		JsonNode *n = json_object_get_member(o, chromium_keys[k]);
		JsonArray *a;

		if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n))
			return FALSE;
		a = json_node_get_array(n);
		if (json_array_get_length(a) != origins->len)
			return FALSE;
		for (guint i = 0; i < origins->len; i++) {
			JsonNode *e = json_array_get_element(a, i);

			if (!JSON_NODE_HOLDS_VALUE(e) ||
			    json_node_get_value_type(e) != G_TYPE_STRING ||
			    g_strcmp0(json_node_get_string(e), g_ptr_array_index(origins, i)) != 0)
				return FALSE;
		}
	}
	return TRUE;
}

/* The member name of obj, created as an empty object when absent; NULL when present
 * and not an object. */
static JsonObject *
child_object(JsonObject *obj, const char *name, gboolean create)
{
	JsonNode *n = json_object_get_member(obj, name);

	if (n == NULL) {
		if (!create)
			return NULL;
		json_object_set_object_member(obj, name, json_object_new());
		return json_object_get_object_member(obj, name);
	}
	return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static gboolean
firefox_matches(JsonNode *root)
{
	JsonObject *p = child_object(json_node_get_object(root), "policies", FALSE);
	JsonObject *sd = p != NULL ? child_object(p, "SecurityDevices", FALSE) : NULL;
	JsonObject *add = sd != NULL ? child_object(sd, "Add", FALSE) : NULL;
	JsonNode *n = add != NULL ? json_object_get_member(add, SDR_DEPLOY_NAME) : NULL;

	return n != NULL && JSON_NODE_HOLDS_VALUE(n) &&
	       json_node_get_value_type(n) == G_TYPE_STRING &&
	       g_strcmp0(json_node_get_string(n), SDR_P11KIT_PROXY) == 0;
}

static SdrDeployItem *
new_item(GPtrArray *items, SdrDeployBrowser b, const char *root)
{
	SdrDeployItem *it = g_new0(SdrDeployItem, 1);

	it->browser = b;
	it->path = under_root(root, rel_paths[b]);
	g_ptr_array_add(items, it);
	return it;
}

/* ---- Check ------------------------------------------------------------------------ */

GPtrArray *
sdr_deploy_browsers_check(const SdrConfig *config, const char *root, GError **error)
{
	g_autoptr(GPtrArray) origins = sdr_deploy_origins(config, error);
	g_autoptr(GPtrArray) items = NULL;

	if (origins == NULL)
		return NULL;
	items = g_ptr_array_new_with_free_func(item_free);
	for (int b = 0; b < SDR_DEPLOY_N_BROWSERS; b++) {
		SdrDeployItem *it = new_item(items, (SdrDeployBrowser)b, root);
		g_autoptr(GError) e = NULL;
		gboolean exists;
		g_autoptr(JsonNode) node = read_json(it->path, &exists, &e);

		if (e != NULL)
			it->state = SDR_DEPLOY_STATE_INVALID;
		else if (b == SDR_DEPLOY_FIREFOX)
			it->state = node != NULL && firefox_matches(node) ? SDR_DEPLOY_STATE_OK
			            : exists                              ? SDR_DEPLOY_STATE_STALE
			                     : SDR_DEPLOY_STATE_MISSING;
		else if (origins->len == 0)
			it->state = exists ? SDR_DEPLOY_STATE_LEFTOVER : SDR_DEPLOY_STATE_NONE;
		else
			it->state = node != NULL && chromium_matches(node, origins)
			                    ? SDR_DEPLOY_STATE_OK
			            : exists ? SDR_DEPLOY_STATE_STALE
			                     : SDR_DEPLOY_STATE_MISSING;
	}
	return g_steal_pointer(&items);
}

/* ---- Deploy ----------------------------------------------------------------------- */

static gboolean
deploy_chromium(SdrDeployItem *it, GPtrArray *origins, GError **error)
{
	g_autoptr(GError) e = NULL;
	gboolean exists;
	g_autoptr(JsonNode) node = read_json(it->path, &exists, &e);
	g_autofree char *text = NULL;

	if (origins->len == 0) {
		/* Nothing allowed: our file must not allow anything either. */
		if (exists && g_unlink(it->path) != 0 && errno != ENOENT) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot remove %s: %s"),
			            it->path, g_strerror(errno));
			return FALSE;
		}
		it->state = SDR_DEPLOY_STATE_NONE;
		it->action = g_strdup(exists ? "removed" : "unchanged");
		return TRUE;
	}
	it->state = SDR_DEPLOY_STATE_OK;
	if (node != NULL && chromium_matches(node, origins)) {
		it->action = g_strdup("unchanged");
		return TRUE;
	}
	/* The file is ours (sinadur.json): replaced whole, even when it was not JSON. */
	text = chromium_text(origins);
	if (!write_text(it->path, text, error))
		return FALSE;
	it->action = g_strdup("written");
	return TRUE;
}

static gboolean
deploy_firefox(SdrDeployItem *it, GError **error)
{
	gboolean exists;
	g_autoptr(JsonNode) node = read_json(it->path, &exists, error);
	JsonObject *p, *sd, *add;
	g_autofree char *text = NULL;

	if (node == NULL && exists)
		return FALSE; /* not JSON: never replaced */
	if (node == NULL) {
		if (error != NULL && *error != NULL)
			return FALSE;
		node = json_node_new(JSON_NODE_OBJECT);
		json_node_take_object(node, json_object_new());
	}
	it->state = SDR_DEPLOY_STATE_OK;
	if (firefox_matches(node)) {
		it->action = g_strdup("unchanged");
		return TRUE;
	}
	p = child_object(json_node_get_object(node), "policies", TRUE);
	sd = p != NULL ? child_object(p, "SecurityDevices", TRUE) : NULL;
	add = sd != NULL ? child_object(sd, "Add", TRUE) : NULL;
	if (add == NULL) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
		            _("%s: “policies”, “SecurityDevices” or “Add” is not an object: fix "
		              "it, it was left untouched."),
		            it->path);
		return FALSE;
	}
	json_object_set_string_member(add, SDR_DEPLOY_NAME, SDR_P11KIT_PROXY);
	text = to_text(node);
	if (!write_text(it->path, text, error))
		return FALSE;
	it->action = g_strdup(exists ? "merged" : "written");
	return TRUE;
}

GPtrArray *
sdr_deploy_browsers(const SdrConfig *config, const char *root, GError **error)
{
	g_autoptr(GPtrArray) origins = sdr_deploy_origins(config, error);
	g_autoptr(GPtrArray) items = NULL;

	if (origins == NULL)
		return NULL;
	items = g_ptr_array_new_with_free_func(item_free);
	for (int b = 0; b < SDR_DEPLOY_N_BROWSERS; b++) {
		SdrDeployItem *it = new_item(items, (SdrDeployBrowser)b, root);
		gboolean ok = b == SDR_DEPLOY_FIREFOX ? deploy_firefox(it, error)
		                                      : deploy_chromium(it, origins, error);

		if (!ok)
			return NULL;
	}
	return g_steal_pointer(&items);
}

/* ---- Remove ----------------------------------------------------------------------- */

static gboolean
remove_firefox(SdrDeployItem *it, GError **error)
{
	gboolean exists;
	g_autoptr(JsonNode) node = read_json(it->path, &exists, error);
	JsonObject *top, *p, *sd, *add;
	g_autofree char *text = NULL;

	if (node == NULL) {
		if (exists)
			return FALSE;
		it->action = g_strdup("unchanged");
		return error == NULL || *error == NULL;
	}
	top = json_node_get_object(node);
	p = child_object(top, "policies", FALSE);
	sd = p != NULL ? child_object(p, "SecurityDevices", FALSE) : NULL;
	add = sd != NULL ? child_object(sd, "Add", FALSE) : NULL;
	if (add == NULL || !json_object_has_member(add, SDR_DEPLOY_NAME)) {
		it->action = g_strdup("unchanged");
		return TRUE;
	}
	json_object_remove_member(add, SDR_DEPLOY_NAME);
	if (json_object_get_size(add) == 0)
		json_object_remove_member(sd, "Add");
	if (json_object_get_size(sd) == 0)
		json_object_remove_member(p, "SecurityDevices");
	if (json_object_get_size(p) == 0 && json_object_get_size(top) == 1) {
		/* Only our entry was there: the file goes (an empty policy is no policy). */
		if (g_unlink(it->path) != 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot remove %s: %s"),
			            it->path, g_strerror(errno));
			return FALSE;
		}
		it->action = g_strdup("removed");
		return TRUE;
	}
	text = to_text(node);
	if (!sdr_file_write_atomic(it->path, text, strlen(text), error))
		return FALSE;
	it->action = g_strdup("merged");
	return TRUE;
}

GPtrArray *
sdr_deploy_browsers_remove(const char *root, GError **error)
{
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(item_free);

	for (int b = 0; b < SDR_DEPLOY_N_BROWSERS; b++) {
		SdrDeployItem *it = new_item(items, (SdrDeployBrowser)b, root);

		it->state = SDR_DEPLOY_STATE_NONE;
		if (b == SDR_DEPLOY_FIREFOX) {
			if (!remove_firefox(it, error))
				return NULL;
			continue;
		}
		if (g_unlink(it->path) == 0) {
			it->action = g_strdup("removed");
		} else if (errno == ENOENT) {
			it->action = g_strdup("unchanged");
		} else {
			g_set_error(error, SDR_ERROR, SDR_ERROR_IO, _("Cannot remove %s: %s"),
			            it->path, g_strerror(errno));
			return NULL;
		}
	}
	return g_steal_pointer(&items);
}
