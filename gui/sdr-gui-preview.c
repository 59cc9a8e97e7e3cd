/* sdr-gui-preview.c - the page preview where the visible stamp is placed: the page
 * rendered by poppler-glib and scaled to fit, the stamp a rectangle moved by
 * dragging it and sized from its lower-right handle, or with the keyboard (arrows,
 * Shift+arrows) and four fields. The geometry (what the person sees -> the
 * request's user-space "rect") is sdr-gui-logic.c's. */
#include "sdr-gui-preview.h"

#include "sdr-gui-logic.h"
#include "sdr-gui-text.h"

#include <glib/gi18n-lib.h>
#include <poppler.h>

#define MARGIN 6.0  /* pixels around the page */
#define HANDLE 12.0 /* pixels: the resize handle's side */
#define STEP 10.0   /* points per arrow key (Ctrl: 1) */
#define N_FIELDS 4

typedef enum { DRAG_NONE, DRAG_MOVE, DRAG_RESIZE } DragMode;

struct _SdrGuiPreview {
	GtkWidget *box;
	GtkWidget *visible; /* "Cachet visible" */
	GtkWidget *title;
	GtkWidget *page_spin, *page_count;
	GtkWidget *area;
	GtkWidget *fields[N_FIELDS]; /* left, bottom, width, height (points) */
	GtkWidget *reason, *location;
	char *path;
	PopplerDocument *doc;
	PopplerPage *page;
	SdrGuiPage geom;
	int n_pages;
	double stamp[4]; /* shown: left, bottom, width, height */
	gboolean placed; /* the stamp was placed on this geometry */
	gboolean syncing;
	cairo_surface_t *cache;
	double cache_scale;
	DragMode drag;
	double drag_x, drag_y, drag_stamp[4];
};

static void
preview_free(gpointer data)
{
	SdrGuiPreview *p = data;

	g_clear_object(&p->page);
	g_clear_object(&p->doc);
	g_clear_pointer(&p->cache, cairo_surface_destroy);
	g_free(p->path);
	g_free(p);
}

/* ---- Geometry on the widget ---------------------------------------------------- */

static double
view_scale(SdrGuiPreview *p, double *ox, double *oy)
{
	double aw = gtk_widget_get_allocated_width(p->area);
	double ah = gtk_widget_get_allocated_height(p->area);
	double s = MIN((aw - 2 * MARGIN) / p->geom.width, (ah - 2 * MARGIN) / p->geom.height);

	s = MAX(s, 0.01);
	*ox = (aw - p->geom.width * s) / 2;
	*oy = (ah - p->geom.height * s) / 2;
	return s;
}

/* The stamp on the widget: x, y (top-left), width, height in pixels. */
static void
stamp_on_widget(SdrGuiPreview *p, double r[4])
{
	double ox, oy, s = view_scale(p, &ox, &oy);

	r[0] = ox + p->stamp[0] * s;
	r[1] = oy + (p->geom.height - p->stamp[1] - p->stamp[3]) * s;
	r[2] = p->stamp[2] * s;
	r[3] = p->stamp[3] * s;
}

/* After every change of the stamp: fields, accessible description, drawing. */
static void
stamp_changed(SdrGuiPreview *p)
{
	g_autofree char *desc = NULL;

	sdr_gui_stamp_clamp(&p->geom, p->stamp);
	p->syncing = TRUE;
	for (int i = 0; i < N_FIELDS; i++) {
		GtkAdjustment *adj = gtk_spin_button_get_adjustment(GTK_SPIN_BUTTON(p->fields[i]));
		double limit = i % 2 == 0 ? p->geom.width : p->geom.height;

		gtk_adjustment_set_upper(adj, limit);
		gtk_adjustment_set_lower(
		        adj, i < 2 ? 0 : (i == 2 ? SDR_GUI_STAMP_MIN_W : SDR_GUI_STAMP_MIN_H));
		gtk_spin_button_set_value(GTK_SPIN_BUTTON(p->fields[i]), p->stamp[i]);
	}
	p->syncing = FALSE;
	desc = sdr_gui_stamp_description(
	        p->stamp, gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(p->page_spin)),
	        p->n_pages);
	atk_object_set_description(gtk_widget_get_accessible(p->area), desc);
	gtk_widget_queue_draw(p->area);
}

/* ---- The page ----------------------------------------------------------------- */

/* The page's rotation, as poppler shows it: a probe annotation added at a known
 * place of the displayed page, read back unrotated and as displayed, then removed
 * (poppler-glib has no getter for /Rotate). */
static int
page_rotation(PopplerDocument *doc, PopplerPage *page, double w, double h, PopplerRectangle *crop)
{
	PopplerRectangle r = { w * 0.1, h * 0.2, w * 0.3, h * 0.7 }, got;
	PopplerAnnot *a = poppler_annot_square_new(doc, &r);
	GList *map, *last;
	int rotation = -1;

	poppler_page_add_annot(page, a);
	poppler_annot_get_rectangle(a, &got);
	map = poppler_page_get_annot_mapping(page);
	last = g_list_last(map);
	if (last != NULL) {
		PopplerAnnotMapping *m = last->data;
		double unrotated[4] = { got.x1, got.y1, got.x2, got.y2 };
		double shown[4] = { m->area.x1, m->area.y1, m->area.x2, m->area.y2 };

		rotation = sdr_gui_rotation_fit(w, h, unrotated, shown);
	}
	poppler_page_free_annot_mapping(map);
	poppler_page_remove_annot(page, a);
	g_object_unref(a);
	if (rotation < 0) {
		/* Sideways when the displayed size is the crop box's turned. */
		double cw = ABS(crop->x2 - crop->x1);
		rotation = ABS(cw - w) > 0.5 && ABS(cw - h) < 0.5 ? 90 : 0;
	}
	return rotation;
}

static void
load_page(SdrGuiPreview *p, int index)
{
	PopplerRectangle crop;
	SdrGuiPage old = p->geom;

	g_clear_object(&p->page);
	g_clear_pointer(&p->cache, cairo_surface_destroy);
	p->page = poppler_document_get_page(p->doc, index);
	if (p->page == NULL)
		return;
	poppler_page_get_size(p->page, &p->geom.width, &p->geom.height);
	poppler_page_get_crop_box(p->page, &crop);
	p->geom.crop_x = MIN(crop.x1, crop.x2);
	p->geom.crop_y = MIN(crop.y1, crop.y2);
	p->geom.rotate = page_rotation(p->doc, p->page, p->geom.width, p->geom.height, &crop);
	if (!p->placed || old.width != p->geom.width || old.height != p->geom.height) {
		/* Where a signature usually goes: lower right, the engine's size. */
		p->stamp[2] = 220;
		p->stamp[3] = 70;
		p->stamp[0] = p->geom.width - 220 - 40;
		p->stamp[1] = 40;
		p->placed = TRUE;
	}
	stamp_changed(p);
}

static gboolean
on_draw(GtkWidget *w, cairo_t *cr, gpointer data)
{
	SdrGuiPreview *p = data;
	double ox, oy, s, r[4];

	if (p->page == NULL)
		return FALSE;
	s = view_scale(p, &ox, &oy);
	if (p->cache == NULL || p->cache_scale != s) {
		cairo_t *c;

		g_clear_pointer(&p->cache, cairo_surface_destroy);
		p->cache = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
		                                      (int)(p->geom.width * s + 0.5),
		                                      (int)(p->geom.height * s + 0.5));
		c = cairo_create(p->cache);
		cairo_set_source_rgb(c, 1, 1, 1);
		cairo_paint(c);
		cairo_scale(c, s, s);
		poppler_page_render(p->page, c);
		cairo_destroy(c);
		p->cache_scale = s;
	}
	cairo_set_source_surface(cr, p->cache, ox, oy);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, ox - 0.5, oy - 0.5, p->geom.width * s + 1, p->geom.height * s + 1);
	cairo_stroke(cr);
	if (!gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(p->visible)))
		return FALSE;
	stamp_on_widget(p, r);
	cairo_set_source_rgba(cr, 0.21, 0.52, 0.89, 0.25);
	cairo_rectangle(cr, r[0], r[1], r[2], r[3]);
	cairo_fill_preserve(cr);
	cairo_set_source_rgb(cr, 0.1, 0.35, 0.7);
	cairo_set_line_width(cr, gtk_widget_has_focus(w) ? 3 : 2);
	cairo_stroke(cr);
	cairo_rectangle(cr, r[0] + r[2] - HANDLE, r[1] + r[3] - HANDLE, HANDLE, HANDLE);
	cairo_fill(cr);
	return FALSE;
}

/* ---- Pointer and keys --------------------------------------------------------- */

static gboolean
on_press(GtkWidget *w, GdkEventButton *e, gpointer data)
{
	SdrGuiPreview *p = data;
	double r[4], ox, oy, s;

	if (e->button != 1 || p->page == NULL ||
	    !gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(p->visible)))
		return FALSE;
	gtk_widget_grab_focus(w);
	stamp_on_widget(p, r);
	s = view_scale(p, &ox, &oy);
	if (e->x >= r[0] + r[2] - HANDLE && e->x <= r[0] + r[2] + 2 &&
	    e->y >= r[1] + r[3] - HANDLE && e->y <= r[1] + r[3] + 2) {
		p->drag = DRAG_RESIZE;
	} else {
		if (!(e->x >= r[0] && e->x <= r[0] + r[2] && e->y >= r[1] && e->y <= r[1] + r[3])) {
			/* Pressed elsewhere on the page: the stamp comes under the pointer. */
			p->stamp[0] = (e->x - ox) / s - p->stamp[2] / 2;
			p->stamp[1] = p->geom.height - (e->y - oy) / s - p->stamp[3] / 2;
			stamp_changed(p);
		}
		p->drag = DRAG_MOVE;
	}
	p->drag_x = e->x;
	p->drag_y = e->y;
	memcpy(p->drag_stamp, p->stamp, sizeof p->stamp);
	return TRUE;
}

/* The pointer is at x, y (widget pixels) during a drag. */
static void
drag_to(SdrGuiPreview *p, double x, double y)
{
	double ox, oy, s, dx, dy;

	s = view_scale(p, &ox, &oy);
	dx = (x - p->drag_x) / s;
	dy = (y - p->drag_y) / s; /* downwards on the screen */
	memcpy(p->stamp, p->drag_stamp, sizeof p->stamp);
	if (p->drag == DRAG_MOVE) {
		p->stamp[0] += dx;
		p->stamp[1] -= dy;
	} else {
		/* The top-left corner stays. */
		double top = p->stamp[1] + p->stamp[3];

		p->stamp[2] = MIN(MAX(p->stamp[2] + dx, SDR_GUI_STAMP_MIN_W),
		                  p->geom.width - p->stamp[0]);
		p->stamp[3] = MIN(MAX(p->stamp[3] + dy, SDR_GUI_STAMP_MIN_H), top);
		p->stamp[1] = top - p->stamp[3];
	}
	stamp_changed(p);
}

static gboolean
on_motion(GtkWidget *w, GdkEventMotion *e, gpointer data)
{
	SdrGuiPreview *p = data;

	if (p->drag == DRAG_NONE)
		return FALSE;
	drag_to(p, e->x, e->y);
	return TRUE;
}

static gboolean
on_release(GtkWidget *w, GdkEventButton *e, gpointer data)
{
	SdrGuiPreview *p = data;

	if (p->drag == DRAG_NONE)
		return FALSE;
	drag_to(p, e->x, e->y);
	p->drag = DRAG_NONE;
	return TRUE;
}

static gboolean
on_key(GtkWidget *w, GdkEventKey *e, gpointer data)
{
	SdrGuiPreview *p = data;
	double step = (e->state & GDK_CONTROL_MASK) ? 1 : STEP, dx = 0, dy = 0;

	switch (e->keyval) {
	case GDK_KEY_Left:
	case GDK_KEY_KP_Left:
		dx = -step;
		break;
	case GDK_KEY_Right:
	case GDK_KEY_KP_Right:
		dx = step;
		break;
	case GDK_KEY_Up:
	case GDK_KEY_KP_Up:
		dy = step;
		break;
	case GDK_KEY_Down:
	case GDK_KEY_KP_Down:
		dy = -step;
		break;
	default:
		return FALSE;
	}
	if (p->page == NULL)
		return FALSE;
	if (e->state & GDK_SHIFT_MASK) {
		/* Wider to the right, taller downwards: the top-left corner stays. */
		double top = p->stamp[1] + p->stamp[3];

		p->stamp[2] += dx;
		p->stamp[3] = MAX(p->stamp[3] - dy, SDR_GUI_STAMP_MIN_H);
		p->stamp[1] = top - p->stamp[3];
	} else {
		p->stamp[0] += dx;
		p->stamp[1] += dy;
	}
	stamp_changed(p);
	return TRUE;
}

static void
on_field(GtkSpinButton *b, gpointer data)
{
	SdrGuiPreview *p = data;

	if (p->syncing || p->page == NULL)
		return;
	for (int i = 0; i < N_FIELDS; i++)
		p->stamp[i] = gtk_spin_button_get_value(GTK_SPIN_BUTTON(p->fields[i]));
	stamp_changed(p);
}

static void
on_page(GtkSpinButton *b, gpointer data)
{
	SdrGuiPreview *p = data;

	if (p->doc != NULL && !p->syncing)
		load_page(p, gtk_spin_button_get_value_as_int(b) - 1);
}

static void
on_visible(GtkToggleButton *t, gpointer data)
{
	SdrGuiPreview *p = data;
	gboolean on = gtk_toggle_button_get_active(t);

	gtk_widget_set_sensitive(p->page_spin, on);
	for (int i = 0; i < N_FIELDS; i++)
		gtk_widget_set_sensitive(p->fields[i], on);
	gtk_widget_queue_draw(p->area);
}

/* ---- Construction -------------------------------------------------------------- */

/* The label of field, also its accessible name (without the colon): GTK 3 gives
 * entries and spin buttons only the labelled-by relation. */
static GtkWidget *
field_label(const char *mnemonic, GtkWidget *field)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(mnemonic);
	g_autofree char *name = g_strdup(gtk_label_get_text(GTK_LABEL(l)));

	gtk_label_set_mnemonic_widget(GTK_LABEL(l), field);
	atk_object_set_name(gtk_widget_get_accessible(field),
	                    g_strstrip(g_strdelimit(name, ":", ' ')));
	return l;
}

static GtkWidget *
labelled(GtkWidget *grid, int row, int col, const char *mnemonic, GtkWidget *field)
{
	GtkWidget *l = field_label(mnemonic, field);

	gtk_label_set_xalign(GTK_LABEL(l), 1.0f);
	gtk_grid_attach(GTK_GRID(grid), l, col, row, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), field, col + 1, row, 1, 1);
	return field;
}

static GtkWidget *
stamp_fields(SdrGuiPreview *p)
{
	static const char *const names[N_FIELDS] = { N_("_Left"), N_("_Bottom"), N_("_Width"),
		                                     N_("_Height") };
	GtkWidget *grid = gtk_grid_new();
	GtkWidget *unit;

	gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	for (int i = 0; i < N_FIELDS; i++) {
		p->fields[i] = gtk_spin_button_new_with_range(0, 14400, 1);
		gtk_spin_button_set_digits(GTK_SPIN_BUTTON(p->fields[i]), 0);
		labelled(grid, i / 2, (i % 2) * 2, _(names[i]), p->fields[i]);
		g_signal_connect(p->fields[i], "value-changed", G_CALLBACK(on_field), p);
	}
	unit = gtk_label_new(_("in points, from the lower left corner (1 point = 0.35 mm)"));
	gtk_label_set_xalign(GTK_LABEL(unit), 0.0f);
	gtk_style_context_add_class(gtk_widget_get_style_context(unit), "dim-label");
	gtk_grid_attach(GTK_GRID(grid), unit, 0, 2, 4, 1);
	return grid;
}

GtkWidget *
sdr_gui_preview_new(SdrGuiPreview **out)
{
	SdrGuiPreview *p = g_new0(SdrGuiPreview, 1);
	GtkWidget *row, *grid, *frame;
	AtkObject *acc;

	p->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	g_object_set_data_full(G_OBJECT(p->box), "sdr-preview", p, preview_free);
	p->visible = gtk_check_button_new_with_mnemonic(_("Visible _stamp on the page"));
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(p->visible), TRUE);
	g_signal_connect(p->visible, "toggled", G_CALLBACK(on_visible), p);
	gtk_box_pack_start(GTK_BOX(p->box), p->visible, FALSE, FALSE, 0);
	p->title = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(p->title), 0.0f);
	gtk_label_set_line_wrap(GTK_LABEL(p->title), TRUE);
	gtk_box_pack_start(GTK_BOX(p->box), p->title, FALSE, FALSE, 0);

	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	p->page_spin = gtk_spin_button_new_with_range(1, 1, 1);
	gtk_box_pack_start(GTK_BOX(row), field_label(_("_Page:"), p->page_spin), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row), p->page_spin, FALSE, FALSE, 0);
	p->page_count = gtk_label_new(NULL);
	gtk_box_pack_start(GTK_BOX(row), p->page_count, FALSE, FALSE, 0);
	g_signal_connect(p->page_spin, "value-changed", G_CALLBACK(on_page), p);
	gtk_box_pack_start(GTK_BOX(p->box), row, FALSE, FALSE, 0);

	p->area = gtk_drawing_area_new();
	gtk_widget_set_size_request(p->area, 300, 340);
	gtk_widget_set_hexpand(p->area, TRUE);
	gtk_widget_set_vexpand(p->area, TRUE);
	gtk_widget_set_can_focus(p->area, TRUE);
	gtk_widget_add_events(p->area, GDK_BUTTON_PRESS_MASK | GDK_BUTTON_RELEASE_MASK |
	                                       GDK_BUTTON1_MOTION_MASK | GDK_KEY_PRESS_MASK);
	g_signal_connect(p->area, "draw", G_CALLBACK(on_draw), p);
	g_signal_connect(p->area, "button-press-event", G_CALLBACK(on_press), p);
	g_signal_connect(p->area, "motion-notify-event", G_CALLBACK(on_motion), p);
	g_signal_connect(p->area, "button-release-event", G_CALLBACK(on_release), p);
	g_signal_connect(p->area, "key-press-event", G_CALLBACK(on_key), p);
	acc = gtk_widget_get_accessible(p->area);
	atk_object_set_name(acc, _("Page preview"));
	frame = gtk_frame_new(NULL);
	gtk_container_add(GTK_CONTAINER(frame), p->area);
	gtk_box_pack_start(GTK_BOX(p->box), frame, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(p->box), stamp_fields(p), FALSE, FALSE, 0);

	grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	p->reason = labelled(grid, 0, 0, _("_Reason:"), gtk_entry_new());
	p->location = labelled(grid, 1, 0, _("Pla_ce:"), gtk_entry_new());
	gtk_entry_set_max_length(GTK_ENTRY(p->reason), 200);
	gtk_entry_set_max_length(GTK_ENTRY(p->location), 100);
	gtk_widget_set_hexpand(p->reason, TRUE);
	gtk_widget_set_hexpand(p->location, TRUE);
	gtk_box_pack_start(GTK_BOX(p->box), grid, FALSE, FALSE, 0);
	gtk_widget_show_all(p->box);
	gtk_widget_set_no_show_all(p->box, TRUE);
	gtk_widget_hide(p->box);
	*out = p;
	return p->box;
}

gboolean
sdr_gui_preview_set_file(SdrGuiPreview *p, const char *path)
{
	g_autoptr(GFile) file = NULL;
	g_autofree char *base = NULL, *safe = NULL, *title = NULL, *count = NULL;
	PopplerDocument *doc;

	if (path != NULL && p->doc != NULL && g_strcmp0(path, p->path) == 0) {
		gtk_widget_show(p->box);
		return TRUE;
	}
	g_clear_object(&p->page);
	g_clear_object(&p->doc);
	g_clear_pointer(&p->path, g_free);
	gtk_widget_hide(p->box);
	if (path == NULL)
		return FALSE;
	file = g_file_new_for_path(path);
	doc = poppler_document_new_from_gfile(file, NULL, NULL, NULL);
	if (doc == NULL || poppler_document_get_n_pages(doc) < 1) {
		g_clear_object(&doc);
		return FALSE;
	}
	p->doc = doc;
	p->path = g_strdup(path);
	p->n_pages = poppler_document_get_n_pages(doc);
	base = g_path_get_basename(path);
	safe = sdr_gui_outside_text(base, 100);
	title = g_strdup_printf(_("Preview of %s. The stamp is placed the same way in every PDF "
	                          "of the list."),
	                        safe);
	gtk_label_set_text(GTK_LABEL(p->title), title);
	count = g_strdup_printf(_("of %d"), p->n_pages);
	gtk_label_set_text(GTK_LABEL(p->page_count), count);
	p->syncing = TRUE;
	gtk_spin_button_set_range(GTK_SPIN_BUTTON(p->page_spin), 1, p->n_pages);
	gtk_spin_button_set_value(GTK_SPIN_BUTTON(p->page_spin), 1);
	p->syncing = FALSE;
	load_page(p, 0);
	gtk_widget_show(p->box);
	return TRUE;
}

gboolean
sdr_gui_preview_active(SdrGuiPreview *p)
{
	return p->page != NULL && gtk_widget_get_visible(p->box);
}

static void
set_text_option(JsonObject *o, const char *name, GtkWidget *entry)
{
	g_autofree char *t = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(entry))));

	if (*t != '\0')
		json_object_set_string_member(o, name, t);
}

void
sdr_gui_preview_fill_options(SdrGuiPreview *p, JsonObject *o)
{
	if (!sdr_gui_preview_active(p))
		return;
	set_text_option(o, "reason", p->reason);
	set_text_option(o, "location", p->location);
	if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(p->visible))) {
		double user[4];
		JsonArray *rect = json_array_new();

		sdr_gui_stamp_to_user(&p->geom, p->stamp, user);
		for (int i = 0; i < 4; i++)
			json_array_add_double_element(
			        rect,
			        (double)(gint64)(user[i] * 100 + (user[i] < 0 ? -0.5 : 0.5)) / 100);
		json_object_set_boolean_member(o, "visible", TRUE);
		json_object_set_int_member(
		        o, "page", gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(p->page_spin)));
		json_object_set_array_member(o, "rect", rect);
	}
}
