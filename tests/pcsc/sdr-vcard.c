/* sdr-vcard.c - a virtual smart card for the PC/SC test rig.
 *
 * libcacard emulates a CAC card whose certificates and keys live in an NSS
 * database (the rig registers a SoftHSM token in it with modutil). The card talks
 * to vsmartcard's vpcd reader driver inside pcscd over TCP: each message is a
 * 2-byte big-endian length and a payload; a 1-byte payload is a control code
 * (0 power off, 1 power on, 2 reset, 4 send the ATR), anything longer is an APDU.
 * Starting the program inserts the card, killing it removes the card.
 *
 * usage: sdr-vcard --db DIR --port N [--reconnect] [--plug-on-signal]
 * Connects to 127.0.0.1:N and prints "ready" on stdout once connected. With
 * --plug-on-signal it prints "initialized" once NSS and the token are loaded and
 * connects only when it receives SIGUSR1 (the tests time the insertion from there). With
 * --reconnect it keeps trying to connect (every 100 ms) and connects again when pcscd goes away,
 * like a card left in a reader while the service restarts.
 */
#include <glib.h>
#include <libcacard.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VPCD_CTRL_OFF 0
#define VPCD_CTRL_ON 1
#define VPCD_CTRL_RESET 2
#define VPCD_CTRL_ATR 4
/* The length prefix caps every message at 65535 bytes. */
#define VPCD_MAX_MSG 0xffff

static gboolean
read_full(int fd, guint8 *buf, gsize len)
{
	gsize got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		int one = 1;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return FALSE;
		got += (gsize)r;
		/* vpcd sends the length and the body in two segments: acknowledge at
		 * once instead of waiting for the delayed-ACK timer. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	}
	return TRUE;
}

/* One write per answer, so that Nagle never holds half of it back. */
static gboolean
send_msg(int fd, const guint8 *payload, gsize len)
{
	static guint8 msg[VPCD_MAX_MSG + 2];
	gsize off = 0;

	if (len > VPCD_MAX_MSG)
		return FALSE;
	msg[0] = (guint8)(len >> 8);
	msg[1] = (guint8)(len & 0xff);
	memcpy(msg + 2, payload, len);
	while (off < len + 2) {
		ssize_t w = write(fd, msg + off, len + 2 - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return FALSE;
		off += (gsize)w;
	}
	return TRUE;
}

static VReader *
find_card_reader(void)
{
	VReaderList *list = vreader_get_reader_list();
	VReader *found = NULL;

	for (VReaderListEntry *e = vreader_list_get_first(list); e != NULL && found == NULL;
	     e = vreader_list_get_next(e)) {
		VReader *r = vreader_list_get_reader(e);

		if (vreader_card_is_present(r) == VREADER_OK)
			found = r;
		else
			vreader_free(r);
	}
	vreader_list_delete(list);
	return found;
}

static int
connect_vpcd(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Serves vpcd until it hangs up. */
static void
serve(int fd, VReader *reader)
{
	static guint8 in[VPCD_MAX_MSG], out[VPCD_MAX_MSG];
	guint8 hdr[2];

	while (read_full(fd, hdr, 2)) {
		gsize len = (gsize)hdr[0] << 8 | hdr[1];
		int out_len = (int)sizeof out;

		if (len == 0 || !read_full(fd, in, len))
			return;
		if (len == 1) {
			switch (in[0]) {
			case VPCD_CTRL_OFF:
				vreader_power_off(reader);
				break;
			case VPCD_CTRL_ON:
				vreader_power_on(reader, NULL, NULL);
				break;
			case VPCD_CTRL_RESET:
				vreader_power_off(reader);
				vreader_power_on(reader, NULL, NULL);
				break;
			case VPCD_CTRL_ATR:
				vcard_emul_get_atr(NULL, out, &out_len);
				if (out_len < 0 || !send_msg(fd, out, (gsize)out_len))
					return;
				break;
			default:
				break;
			}
			continue;
		}
		if (vreader_xfr_bytes(reader, in, (int)len, out, &out_len) != VREADER_OK ||
		    out_len < 0 || out_len > (int)sizeof out)
			out_len = 0;
		if (!send_msg(fd, out, (gsize)out_len))
			return;
	}
}

int
main(int argc, char **argv)
{
	g_autofree char *db = NULL;
	g_autofree char *opts = NULL;
	gint port = 0;
	gboolean reconnect = FALSE, plug_on_signal = FALSE;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "NSS database folder", "DIR" },
		{ "port", 0, 0, G_OPTION_ARG_INT, &port, "vpcd port on 127.0.0.1", "N" },
		{ "reconnect", 0, 0, G_OPTION_ARG_NONE, &reconnect,
		  "connect again when vpcd hangs up", NULL },
		{ "plug-on-signal", 0, 0, G_OPTION_ARG_NONE, &plug_on_signal,
		  "connect on SIGUSR1 only", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) oc = g_option_context_new("- virtual CAC card for vpcd");
	g_autoptr(GError) error = NULL;
	VReader *reader;
	sigset_t usr1;
	int fd;

	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, &argc, &argv, &error)) {
		fprintf(stderr, "sdr-vcard: %s\n", error->message);
		return 2;
	}
	if (db == NULL || port <= 0 || port > 65535 || strchr(db, '"') != NULL) {
		fprintf(stderr, "usage: sdr-vcard --db DIR --port N\n");
		return 2;
	}

	if (plug_on_signal) {
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		/* Blocked in every thread NSS starts, so that sigwait() receives it. */
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	}
	opts = g_strdup_printf("db=\"sql:%s\" use_hw=removable", db);
	if (vcard_emul_init(vcard_emul_options(opts)) != VCARD_EMUL_OK) {
		fprintf(stderr, "sdr-vcard: vcard_emul_init failed for %s\n", db);
		return 1;
	}
	reader = find_card_reader();
	if (reader == NULL) {
		fprintf(stderr, "sdr-vcard: no removable NSS token with certificates "
		                "(SOFTHSM2_CONF needs slots.removable = true)\n");
		vcard_emul_finalize();
		return 1;
	}
	if (plug_on_signal) {
		int sig = 0;

		printf("initialized\n");
		fflush(stdout);
		if (sigwait(&usr1, &sig) != 0) {
			vreader_free(reader);
			vcard_emul_finalize();
			return 1;
		}
	}
	for (;;) {
		fd = connect_vpcd(port);
		if (fd < 0 && reconnect) {
			g_usleep(100 * G_TIME_SPAN_MILLISECOND);
			continue;
		}
		if (fd < 0) {
			fprintf(stderr, "sdr-vcard: cannot connect to vpcd on 127.0.0.1:%d: %s\n",
			        port, g_strerror(errno));
			vreader_free(reader);
			vcard_emul_finalize();
			return 1;
		}
		printf("ready %s\n", vreader_get_name(reader));
		fflush(stdout);
		serve(fd, reader);
		close(fd);
		vreader_power_off(reader);
		if (!reconnect)
			break;
	}

	vreader_free(reader);
	vcard_emul_finalize();
	return 0;
}
