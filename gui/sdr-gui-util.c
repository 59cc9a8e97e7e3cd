/* sdr-gui-util.c - what every window of gui/ uses: handler calls on worker
 * threads, JSON and text helpers, navigation. Calls no window: the windows ask
 * for each other through the application's actions (sdr_gui_navigate), which
 * sdr-gui.c installs, so that no two files of gui/ call each other. */
#include "sdr-gui-private.h"

#include <glib/gi18n-lib.h>

void
sdr_gui_navigate(SdrGui *gui, const char *action)
{
	g_action_group_activate_action(G_ACTION_GROUP(gui->app), action, NULL);
}

/* ---- Handler calls on worker threads --------------------------------------------- */

typedef struct {
	SdrGui *gui;
	char *name;
	JsonObject *request;
	GCancellable *cancellable;
	SdrGuiProgressFunc progress; /* on the main loop */
	SdrGuiDoneFunc done;
	gpointer data;
} RunCall;

static void
run_call_free(gpointer p)
{
	RunCall *c = p;

	g_free(c->name);
	json_object_unref(c->request);
	g_clear_object(&c->cancellable);
	g_free(c);
}

typedef struct {
	SdrGuiProgressFunc func;
	gpointer data;
	guint done, total;
	char *current;
} ProgressStep;

static gboolean
progress_show(gpointer p)
{
	ProgressStep *step = p;

	step->func(step->done, step->total, step->current, step->data);
	return G_SOURCE_REMOVE;
}

static void
progress_step_free(gpointer p)
{
	ProgressStep *step = p;

	g_free(step->current);
	g_free(step);
}

/* On the worker thread: the step goes to the main loop (in order: one queue). */
static void
progress_post(guint done, guint total, const char *current, gpointer data)
{
	RunCall *c = data;
	ProgressStep *step = g_new0(ProgressStep, 1);

	step->func = c->progress;
	step->data = c->data;
	step->done = done;
	step->total = total;
	step->current = g_strdup(current);
	g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, progress_show, step,
	                           progress_step_free);
}

static void
run_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	RunCall *c = data;
	GError *error = NULL;
	JsonNode *answer = c->gui->options.run(c->name, c->request, c->cancellable,
	                                       c->progress != NULL ? progress_post : NULL, c,
	                                       c->gui->options.run_data, &error);

	if (answer == NULL)
		g_task_return_error(
		        task, error != NULL
		                      ? error
		                      : g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, "?"));
	else
		g_task_return_pointer(task, answer, (GDestroyNotify)json_node_unref);
}

static void
run_done(GObject *source, GAsyncResult *result, gpointer data)
{
	RunCall *c = g_task_get_task_data(G_TASK(result));
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = g_task_propagate_pointer(G_TASK(result), &error);

	if (c->done != NULL)
		c->done(c->gui, answer, error, c->data);
}

void
sdr_gui_run_async_full(SdrGui *gui, const char *name, JsonObject *request,
                       GCancellable *cancellable, SdrGuiProgressFunc progress, SdrGuiDoneFunc done,
                       gpointer data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, run_done, NULL);
	RunCall *c = g_new0(RunCall, 1);

	c->gui = gui;
	c->name = g_strdup(name);
	c->request = request != NULL ? json_object_ref(request) : json_object_new();
	c->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
	c->progress = progress;
	c->done = done;
	c->data = data;
	g_task_set_task_data(task, c, run_call_free);
	g_task_run_in_thread(task, run_thread);
}

void
sdr_gui_run_async(SdrGui *gui, const char *name, JsonObject *request, SdrGuiDoneFunc done,
                  gpointer data)
{
	sdr_gui_run_async_full(gui, name, request, NULL, NULL, done, data);
}

/* ---- JSON and text helpers ------------------------------------------------------------ */

const char *
sdr_gui_json_string(JsonObject *o, const char *member)
{
	JsonNode *n;

	if (o == NULL || !json_object_has_member(o, member))
		return NULL;
	n = json_object_get_member(o, member);
	if (n == NULL || JSON_NODE_TYPE(n) != JSON_NODE_VALUE ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

JsonArray *
sdr_gui_json_array(JsonNode *node, const char *member)
{
	JsonObject *o;
	JsonNode *n;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	o = json_node_get_object(node);
	if (!json_object_has_member(o, member))
		return NULL;
	n = json_object_get_member(o, member);
	return JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

char *
sdr_gui_date_text(const char *iso)
{
	g_autoptr(GDateTime) t = NULL;
	g_autoptr(GDateTime) local = NULL;

	if (iso == NULL)
		return g_strdup("—");
	t = g_date_time_new_from_iso8601(iso, NULL);
	if (t == NULL)
		return g_strdup("—");
	local = g_date_time_to_local(t);
	return g_date_time_format(local, "%d/%m/%Y");
}

GtkWidget *
sdr_gui_value_label(const char *text)
{
	GtkWidget *l = gtk_label_new(text != NULL ? text : "—");

	gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_selectable(GTK_LABEL(l), TRUE);
	gtk_widget_set_can_focus(l, FALSE);
	return l;
}
