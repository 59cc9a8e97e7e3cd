/* sdr-atr.c - which card is this, and which PKCS#11 module does it need?
 *
 * The table maps an Answer To Reset to a card name and the module that drives it.
 * Entries are written the way the public ATR lists write them: hex bytes separated
 * by spaces, ".." for a byte that varies (the byte is masked out). Exact entries
 * come before the masked family entries that would also match them, because the
 * first match wins. Sources: the ATR facts of the pcsc-tools list
 * (smartcard_list.txt) and the reference notes in /work/shared/reference.
 */
#include "sdr-token.h"

#include <string.h>

/* Longest ATR allowed by ISO 7816-3 (TS + 32 bytes). */
#define SDR_ATR_MAX 33

#define SDR_MODULE_IDOPTE "/usr/lib/SCMiddleware/libidop11.so"
#define SDR_MODULE_SAFENET "/usr/lib/libeTPkcs11.so"
#define SDR_MODULE_IDPRIME "/usr/lib/libIDPrimePKCS11.so"
/* OpenSC lives in Debian's multiarch folder; elsewhere the bare file name, which
 * dlopen() resolves through the library path. */
#if defined(__x86_64__) && defined(__linux__)
#define SDR_MODULE_OPENSC "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
#elif defined(__aarch64__) && defined(__linux__)
#define SDR_MODULE_OPENSC "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"
#else
#define SDR_MODULE_OPENSC "opensc-pkcs11.so"
#endif

typedef struct {
	const char *atr; /* "3B DB 96 ..", ".." = any byte */
	const char *card_name;
	const char *module;
} SdrAtrEntry;

static const SdrAtrEntry atr_table[] = {
	/* ChamberSign (Audacio, Eiducio, Probatio): Idopte Smart Card Middleware.
	 * OpenSC does not know these cards. */
	{ "3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 1A 71 01 00 07 90 00 33",
	  "ChamberSign Gemalto USB Shell Token V2 (Audacio **)", SDR_MODULE_IDOPTE },
	{ "3B DB 96 00 80 B1 FE 45 1F 83 00 31 C1 64 08 40 22 30 0F 90 00 0A",
	  "ChamberSign Oberthur v7 (2020)", SDR_MODULE_IDOPTE },

	/* SafeNet eToken 5110 family (CertEurope...): SafeNet Authentication Client. */
	{ "3B D5 18 00 81 31 FE 7D 80 73 C8 21 10 F4", "SafeNet eToken 5110 (Java)",
	  SDR_MODULE_SAFENET },
	{ "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 84 65 66 FB 12 01 78 82 90 00 85",
	  "SafeNet eToken 5110+ FIPS", SDR_MODULE_SAFENET },
	{ "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 84 56 51 10 12 01 78 82 90 00 6A",
	  "SafeNet eToken 5300", SDR_MODULE_SAFENET },

	/* IDPrime-based tokens and cards (eToken 5110 SC/CC are IDPrime 940 inside). */
	{ "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 85 59 56 FB 12 0F FE 82 90 00 00",
	  "SafeNet eToken 5110 SC (IDPrime 940)", SDR_MODULE_IDPRIME },
	{ "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 85 59 56 FB 12 01 78 82 90 00 88",
	  "SafeNet eToken 5110 (eSignature)", SDR_MODULE_IDPRIME },
	{ "3B 7F 96 00 00 80 31 80 65 B0 85 05 00 39 12 0F FE 82 90 00",
	  "SafeNet eToken 5110 CC (IDPrime 940C)", SDR_MODULE_IDPRIME },
	{ "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 85 05 00 39 12 0F FE 82 90 00 C8",
	  "SafeNet IDPrime 3940C", SDR_MODULE_IDPRIME },
	{ "3B 7F 96 00 00 80 31 80 65 B0 85 59 56 FB 12 0F FE 82 90 00",
	  "SafeNet IDPrime 940B / 941", SDR_MODULE_IDPRIME },
	{ "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 85 59 56 FB 12 0F FC 82 90 00 02",
	  "SafeNet IDPrime 3940 FIDO", SDR_MODULE_IDPRIME },
	{ "3B 8F 80 01 80 31 80 65 B0 85 59 56 FB 12 0F FC 82 90 00 68",
	  "SafeNet IDPrime 3940 FIDO (contactless)", SDR_MODULE_IDPRIME },
	/* Families: IDPrime MD 830/840/3810/3840/8840, T=0 and T=1. */
	{ "3B 7F .. 00 00 80 31 80 65 B0 .. .. .. .. 12 0F FE 82 90 00", "SafeNet IDPrime MD",
	  SDR_MODULE_IDPRIME },
	{ "3B FF .. 00 00 81 31 .. 43 80 31 80 65 B0 .. .. .. .. 12 0F FE 82 90 00 ..",
	  "SafeNet IDPrime MD", SDR_MODULE_IDPRIME },

	/* libcacard's virtual CAC ("VCARD_NSS"), used by the test rig: OpenSC. */
	{ "3B 89 00 56 43 41 52 44 5F 4E 53 53", "Virtual CAC (libcacard)", SDR_MODULE_OPENSC },
};

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses a table pattern into value and mask bytes. Returns the length, or 0 when
 * the pattern is malformed (the unit test checks every entry). */
static gsize
atr_pattern_parse(const char *pattern, guint8 value[SDR_ATR_MAX], guint8 mask[SDR_ATR_MAX])
{
	gsize n = 0;
	const char *p = pattern;

	while (*p != '\0') {
		if (n == SDR_ATR_MAX)
			return 0;
		if (p[0] == '.' && p[1] == '.') {
			value[n] = 0;
			mask[n] = 0;
		} else {
			int hi = hex_digit(p[0]);
			int lo = hi < 0 ? -1 : hex_digit(p[1]);

			if (lo < 0)
				return 0;
			value[n] = (guint8)(hi << 4 | lo);
			mask[n] = 0xff;
		}
		n++;
		p += 2;
		if (*p == ' ')
			p++;
		else if (*p != '\0')
			return 0;
	}
	return n;
}

static gboolean
atr_pattern_match(const char *pattern, const guint8 *atr, gsize atr_len)
{
	guint8 value[SDR_ATR_MAX], mask[SDR_ATR_MAX];
	gsize n = atr_pattern_parse(pattern, value, mask);

	if (n == 0 || n != atr_len)
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		if ((atr[i] & mask[i]) != value[i])
			return FALSE;
	}
	return TRUE;
}

gboolean
sdr_atr_lookup(const guint8 *atr, gsize atr_len, const char **card_name, const char **module_hint)
{
	if (atr == NULL || atr_len == 0 || atr_len > SDR_ATR_MAX)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(atr_table); i++) {
		if (!atr_pattern_match(atr_table[i].atr, atr, atr_len))
			continue;
		if (card_name != NULL)
			*card_name = atr_table[i].card_name;
		if (module_hint != NULL)
			*module_hint = atr_table[i].module;
		return TRUE;
	}
	return FALSE;
}
