/* sdr-pdf-appearance.c - the appearance stream of a visible signature: a framed box with
 * "Signed by <holder>", the date, the reason and the location in Helvetica (WinAnsi so
 * accented letters render), and an optional PNG image on the left.
 */
#include "sdr-pdf.h"
#include "sdr-time.h"

#include "sdr-error.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#define PNG_MAX_SIDE 4096u
#define PNG_MAX_PIXELS (4096u * 4096u)

/* Helvetica advance widths (1/1000 em) for 32..126; other codes use 556. */
static const guint16 helv_widths[95] = {
	278,  278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
	556,  556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
	1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
	667,  778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
	333,  556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
	556,  556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
};

static double
text_width(const char *s, gsize n)
{
	double w = 0;

	for (gsize i = 0; i < n; i++) {
		guint8 c = (guint8)s[i];

		if (c >= 32 && c <= 126) {
			w += helv_widths[c - 32];
		} else if (c == 0x85 || c == 0x89 || c == 0x97 || c == 0x8c || c == 0xc6 ||
		           c == 0x99) {
			w += 1000; /* … ‰ — Œ Æ ™ */
		} else if (c >= 0xc0 && c <= 0xdd) {
			w += 722; /* accented capitals */
		} else {
			w += 556;
		}
	}
	return w / 1000.0;
}

char *
sdr_pdf_winansi(const char *utf8, gsize *len)
{
	gsize out_len = 0;
	char *r = g_convert_with_fallback(utf8, -1, "WINDOWS-1252", "UTF-8", "?", NULL, &out_len,
	                                  NULL);

	if (r == NULL) {
		GString *s = g_string_new(NULL);

		for (const char *p = utf8; *p; p++) {
			g_string_append_c(s, ((guint8)*p < 0x80) ? *p : '?');
		}
		out_len = s->len;
		r = g_string_free(s, FALSE);
	}
	*len = out_len;
	return r;
}

/* ---- zlib through GIO converters ---- */

static GBytes *
convert_all(GConverter *conv, const guint8 *in, gsize in_len, gsize cap, GError **error)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	guint8 buf[65536];
	gsize pos = 0;

	for (;;) {
		gsize r = 0, w = 0;
		GConverterResult res =
		        g_converter_convert(conv, in + pos, in_len - pos, buf, sizeof buf,
		                            G_CONVERTER_INPUT_AT_END, &r, &w, error);

		if (res == G_CONVERTER_ERROR) {
			return NULL;
		}
		pos += r;
		g_byte_array_append(out, buf, (guint)w);
		if (out->len > cap) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_TOO_LARGE,
			            _("The image is too large"));
			return NULL;
		}
		if (res == G_CONVERTER_FINISHED) {
			break;
		}
		if (r == 0 && w == 0) {
			g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
			            _("The PNG image is damaged"));
			return NULL;
		}
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static GBytes *
deflate_bytes(const guint8 *in, gsize len)
{
	g_autoptr(GZlibCompressor) c = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 6);

	return convert_all(G_CONVERTER(c), in, len, G_MAXUINT32, NULL);
}

/* ---- A small PNG reader: 8-bit, non-interlaced, any colour type ---- */

typedef struct {
	guint32 width, height;
	int channels;   /* 1 gray, 3 RGB */
	GBytes *pixels; /* width*height*channels */
	GBytes *alpha;  /* width*height, or NULL */
} Image;

static guint32
be32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static int
paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc) {
		return a;
	}
	return pb <= pc ? b : c;
}

/* long: one PNG decoder (chunks IHDR/PLTE/IDAT/IEND, inflate, the row filters, colour
 * types to RGB + alpha); its state (inflated rows, previous row) stays in locals. */
static gboolean
png_decode(GBytes *png, Image *img, GError **error)
{
	gsize n, pos = 8;
	const guint8 *d = g_bytes_get_data(png, &n);
	g_autoptr(GByteArray) idat = g_byte_array_new();
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(GZlibDecompressor) z = NULL;
	guint8 palette[768];
	guint32 npal = 0, w = 0, h = 0;
	int depth = 0, ctype = -1, interlace = 0, bpp;
	gsize stride, rn;
	const guint8 *r;
	guint8 *px, *al = NULL, *cur;
	g_autofree guint8 *unf = NULL;

	if (n < 8 || memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0) {
		goto bad;
	}
	while (pos + 12 <= n) {
		guint32 len = be32(d + pos);
		const guint8 *type = d + pos + 4, *data = d + pos + 8;

		if (len > n - pos - 12) {
			goto bad;
		}
		if (memcmp(type, "IHDR", 4) == 0 && len >= 13) {
			w = be32(data);
			h = be32(data + 4);
			depth = data[8];
			ctype = data[9];
			interlace = data[12];
		} else if (memcmp(type, "PLTE", 4) == 0 && len <= 768 && len % 3 == 0) {
			memcpy(palette, data, len);
			npal = len / 3;
		} else if (memcmp(type, "IDAT", 4) == 0) {
			g_byte_array_append(idat, data, len);
		} else if (memcmp(type, "IEND", 4) == 0) {
			break;
		}
		pos += 12 + (gsize)len;
	}
	if (w == 0 || h == 0 || w > PNG_MAX_SIDE || h > PNG_MAX_SIDE ||
	    (guint64)w * h > PNG_MAX_PIXELS || idat->len == 0) {
		goto bad;
	}
	if (depth != 8 || interlace != 0 || (ctype == 3 && npal == 0)) {
		g_set_error(error, SDR_ERROR, SDR_ERROR_UNSUPPORTED,
		            _("Only 8-bit non-interlaced PNG images are supported"));
		return FALSE;
	}
	switch (ctype) {
	case 0:
	case 3:
		bpp = 1;
		break;
	case 2:
		bpp = 3;
		break;
	case 4:
		bpp = 2;
		break;
	case 6:
		bpp = 4;
		break;
	default:
		goto bad;
	}
	stride = (gsize)w * (gsize)bpp;
	z = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
	raw = convert_all(G_CONVERTER(z), idat->data, idat->len, (stride + 1) * h, NULL);
	if (raw == NULL) {
		goto bad;
	}
	r = g_bytes_get_data(raw, &rn);
	if (rn < (stride + 1) * h) {
		goto bad;
	}
	unf = g_malloc0(stride * h);
	for (guint32 y = 0; y < h; y++) {
		const guint8 *line = r + y * (stride + 1);
		guint8 ft = line[0];
		const guint8 *prev = y > 0 ? unf + (y - 1) * stride : NULL;

		cur = unf + y * stride;
		for (gsize x = 0; x < stride; x++) {
			int a = x >= (gsize)bpp ? cur[x - (gsize)bpp] : 0;
			int b = prev ? prev[x] : 0;
			int c = (prev && x >= (gsize)bpp) ? prev[x - (gsize)bpp] : 0;
			int v = line[1 + x];

			switch (ft) {
			case 0:
				break;
			case 1:
				v += a;
				break;
			case 2:
				v += b;
				break;
			case 3:
				v += (a + b) / 2;
				break;
			case 4:
				v += paeth(a, b, c);
				break;
			default:
				goto bad;
			}
			cur[x] = (guint8)v;
		}
	}
	img->width = w;
	img->height = h;
	img->channels = (ctype == 0 || ctype == 4) ? 1 : 3;
	px = g_malloc((gsize)w * h * (gsize)img->channels);
	if (ctype == 4 || ctype == 6) {
		al = g_malloc((gsize)w * h);
	}
	for (gsize i = 0; i < (gsize)w * h; i++) {
		const guint8 *s = unf + i * (gsize)bpp;

		switch (ctype) {
		case 0:
			px[i] = s[0];
			break;
		case 2:
			memcpy(px + 3 * i, s, 3);
			break;
		case 3: {
			guint32 idx = s[0] < npal ? s[0] : 0;

			memcpy(px + 3 * i, palette + 3 * idx, 3);
			break;
		}
		case 4:
			px[i] = s[0];
			al[i] = s[1];
			break;
		default:
			memcpy(px + 3 * i, s, 3);
			al[i] = s[3];
			break;
		}
	}
	img->pixels = g_bytes_new_take(px, (gsize)w * h * (gsize)img->channels);
	img->alpha = al ? g_bytes_new_take(al, (gsize)w * h) : NULL;
	return TRUE;
bad:
	g_set_error(error, SDR_ERROR, SDR_ERROR_PARSE,
	            _("The stamp image is not a valid PNG file"));
	return FALSE;
}

static int
add_image_stream(SdrPdfUpdate *u, guint32 w, guint32 h, const char *cs, GBytes *pixels, int smask)
{
	g_autoptr(SdrPdfDict) d = sdr_pdf_dict_new();
	gsize n;
	const guint8 *p = g_bytes_get_data(pixels, &n);
	g_autoptr(GBytes) z = deflate_bytes(p, n);
	int num = sdr_pdf_update_alloc(u);

	sdr_pdf_dict_set(d, "Type", "/XObject");
	sdr_pdf_dict_set(d, "Subtype", "/Image");
	sdr_pdf_dict_take(d, "Width", g_strdup_printf("%u", w));
	sdr_pdf_dict_take(d, "Height", g_strdup_printf("%u", h));
	sdr_pdf_dict_set(d, "ColorSpace", cs);
	sdr_pdf_dict_set(d, "BitsPerComponent", "8");
	if (smask > 0) {
		sdr_pdf_dict_take(d, "SMask", g_strdup_printf("%d 0 R", smask));
	}
	if (z != NULL) {
		sdr_pdf_dict_set(d, "Filter", "/FlateDecode");
		p = g_bytes_get_data(z, &n);
	}
	sdr_pdf_update_set_stream(u, num, d, p, n);
	return num;
}

static void
append_pdf_text(GString *s, const char *bytes, gsize n)
{
	sdr_pdf_append_string(s, (const guint8 *)bytes, n);
}

/* long: builds the stamp of a visible signature in one place (date text, image and
 * soft mask streams, frame, text lines, the form XObject); each object is numbered in
 * the same update as the previous ones. */
int
sdr_pdf_appearance_add(SdrPdfUpdate *update, const SdrPdfStamp *stamp, GError **error)
{
	g_autoptr(GString) cs = g_string_new(NULL);
	g_autoptr(SdrPdfDict) form = sdr_pdf_dict_new();
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) lens = g_array_new(FALSE, FALSE, sizeof(gsize));
	/* Local time with its zone, in the message language's date order. */
	g_autofree char *date = sdr_time_format_datetime(stamp->when);
	gboolean swap = stamp->rotate == 90 || stamp->rotate == 270;
	double bw = swap ? stamp->height : stamp->width;
	double bh = swap ? stamp->width : stamp->height;
	double tx = 4, tw, fs, lead, maxw = 0;
	int img = 0, num;
	Image im = { 0 };
	char *utf8[4];
	int nl = 0;

	if (stamp->png != NULL) {
		int smask = 0;

		if (!png_decode(stamp->png, &im, error)) {
			return 0;
		}
		if (im.alpha != NULL) {
			smask = add_image_stream(update, im.width, im.height, "/DeviceGray",
			                         im.alpha, 0);
		}
		img = add_image_stream(update, im.width, im.height,
		                       im.channels == 1 ? "/DeviceGray" : "/DeviceRGB", im.pixels,
		                       smask);
		g_bytes_unref(im.pixels);
		if (im.alpha != NULL) {
			g_bytes_unref(im.alpha);
		}
	}

	utf8[nl++] = g_strdup_printf(_("Signed by %s"), stamp->holder);
	utf8[nl++] = g_strdup_printf(_("Date: %s"), date);
	if (stamp->reason != NULL && *stamp->reason) {
		utf8[nl++] = g_strdup_printf(_("Reason: %s"), stamp->reason);
	}
	if (stamp->location != NULL && *stamp->location) {
		utf8[nl++] = g_strdup_printf(_("Location: %s"), stamp->location);
	}
	for (int i = 0; i < nl; i++) {
		gsize n;
		char *w = sdr_pdf_winansi(utf8[i], &n);

		g_ptr_array_add(lines, w);
		g_array_append_val(lens, n);
		maxw = MAX(maxw, text_width(w, n) * (i == 0 ? 1.08 : 1.0));
		g_free(utf8[i]);
	}

	/* Frame. */
	g_string_append_printf(cs,
	                       "q\n0.96 0.97 1 rg\n0.15 0.25 0.55 RG\n1 w\n"
	                       "0.5 0.5 %.2f %.2f re\nB\n",
	                       bw - 1, bh - 1);
	if (img > 0) {
		double side = MIN(bh - 8, bw * 0.35);
		double sw = side, sh = side;

		if (side > 0) {
			if (im.width >= im.height) {
				sh = side * im.height / im.width;
			} else {
				sw = side * im.width / im.height;
			}
			g_string_append_printf(cs, "q\n%.3f 0 0 %.3f %.2f %.2f cm\n/Im1 Do\nQ\n",
			                       sw, sh, 4 + (side - sw) / 2, (bh - sh) / 2);
			tx = side + 8;
		}
	}
	tw = bw - tx - 4;
	fs = MIN(12.0, (bh - 6) / (nl * 1.25));
	if (maxw > 0 && tw > 0) {
		fs = MIN(fs, tw * 0.96 / maxw);
	}
	fs = MAX(fs, 2.0);
	lead = fs * 1.25;
	g_string_append_printf(cs, "BT\n0.1 0.1 0.25 rg\n%.2f %.2f Td\n%.2f TL\n", tx,
	                       bh / 2 + (nl * lead) / 2 - fs, lead);
	for (int i = 0; i < nl; i++) {
		g_string_append_printf(cs, "/%s %.2f Tf\n", i == 0 ? "F2" : "F1", fs);
		append_pdf_text(cs, g_ptr_array_index(lines, i), g_array_index(lens, gsize, i));
		g_string_append(cs, i + 1 < nl ? " Tj T*\n" : " Tj\n");
	}
	g_string_append(cs, "ET\nQ\n");

	sdr_pdf_dict_set(form, "Type", "/XObject");
	sdr_pdf_dict_set(form, "Subtype", "/Form");
	sdr_pdf_dict_take(form, "BBox", g_strdup_printf("[0 0 %.2f %.2f]", bw, bh));
	switch (stamp->rotate) {
	case 90:
		sdr_pdf_dict_take(form, "Matrix", g_strdup_printf("[0 1 -1 0 %.2f 0]", bh));
		break;
	case 180:
		sdr_pdf_dict_take(form, "Matrix", g_strdup_printf("[-1 0 0 -1 %.2f %.2f]", bw, bh));
		break;
	case 270:
		sdr_pdf_dict_take(form, "Matrix", g_strdup_printf("[0 -1 1 0 0 %.2f]", bw));
		break;
	default:
		break;
	}
	{
		g_autofree char *res = g_strdup_printf(
		        "<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
		        "/Encoding /WinAnsiEncoding >> /F2 << /Type /Font /Subtype /Type1 "
		        "/BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >> >>%s >>",
		        img > 0 ? " /XObject << /Im1 IMGREF >>" : "");

		if (img > 0) {
			g_autofree char *ref = g_strdup_printf("%d 0 R", img);
			g_autoptr(GString) r = g_string_new(res);

			g_string_replace(r, "IMGREF", ref, 1);
			sdr_pdf_dict_set(form, "Resources", r->str);
		} else {
			sdr_pdf_dict_set(form, "Resources", res);
		}
	}
	num = sdr_pdf_update_alloc(update);
	sdr_pdf_update_set_stream(update, num, form, (const guint8 *)cs->str, cs->len);
	return num;
}
