# tests/s2low/rig.sh - the S²LOW test rig (POSIX sh, to source after tests/fixtures/lib.sh and
# sdr_tmpdir, so that T is set and everything started is stopped on exit).
#
#   s2low_rig_start          PKI in $T/s2low-pki (make-tls-pki.sh), accounts, s2low-service.py
#                            (state in $T/s2low-state) and nginx in front of it; sets
#                              S2LOW_URL    https://127.0.0.1:PORT (nginx, TLS, client cert required)
#                              S2LOW_ADMIN  http://127.0.0.1:PORT/_admin (the service's own port)
#                              S2LOW_PKI    the PKI folder (root.pem = CA of the server and RGS root)
#                            env: S2LOW_STEP (seconds between status changes, default 1)
#   s2low_service_restart    stop and start the service on the same port and state
#   s2low_proxy_start ARGS   fault-proxy.py in front of nginx with ARGS (--drop-upload-after N,
#                            --delay S); sets S2LOW_PROXY_URL, log in $T/proxy.log
#   s2low_admin PATH [JSON]  GET (or POST JSON) $S2LOW_ADMIN/PATH, prints the answer
#
# Accounts (in $T/s2low-state/accounts.json):
#   client.pem  -> jdupont / jdupont-pw, authority 1 (SIREN 212901789), ACTES TT, Hélios TT
#   shared.pem  -> secretariat / secret-1 (authority 1) and mairie2 / secret-2 (authority 2):
#                  HTTP Basic required
#   stranger.pem, under the RGS CA, no account -> 302
#   other-client.pem, another CA -> refused by nginx (connection closed, no answer)
S2LOW_DIR=${SDR_SRC:-${SINADUR_SOURCE_ROOT:-.}}/tests/s2low

s2low_wait_port() {
	s2low_i=0
	while ! $SDR_PY -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
		s2low_i=$((s2low_i + 1))
		[ $s2low_i -gt 100 ] && { echo "s2low rig: port $1 did not open ($2)"; return 1; }
		sleep 0.1
	done
}

s2low_service_run() {
	$SDR_PY "$S2LOW_DIR/s2low-service.py" --state "$T/s2low-state" --port "$S2LOW_SVC_PORT" \
		--step "${S2LOW_STEP:-1}" --rgs-ca "$S2LOW_PKI/root.pem" --rgs-ca "$S2LOW_PKI/ca.pem" \
		2>>"$T/s2low-service.log" &
	S2LOW_SVC_PID=$!
	sdr_kill_on_exit $S2LOW_SVC_PID
	s2low_wait_port "$S2LOW_SVC_PORT" service
}

s2low_service_restart() {
	kill "$S2LOW_SVC_PID" 2>/dev/null || true
	wait "$S2LOW_SVC_PID" 2>/dev/null || true
	s2low_service_run
}

s2low_rig_start() {
	S2LOW_PKI=$T/s2low-pki
	sh "$S2LOW_DIR/make-tls-pki.sh" "$S2LOW_PKI" >/dev/null || { echo "make-tls-pki failed"; return 1; }
	mkdir -p "$T/s2low-state" "$T/nginx"
	cat > "$T/s2low-state/accounts.json" <<J
{"authorities": {"1": {"siren": "212901789", "department": "029", "name": "Commune de Plougastel-Daoulas"},
                 "2": {"siren": "200066777", "department": "029", "name": "Communauté de communes TEST"}},
 "accounts": [
  {"id": 1, "login": "jdupont", "password": "jdupont-pw", "authority_id": 1, "actes": "TT", "helios": "TT",
   "cert_hash": "$(cat "$S2LOW_PKI/client.hash")"},
  {"id": 2, "login": "secretariat", "password": "secret-1", "authority_id": 1, "actes": "TT", "helios": "TT",
   "cert_hash": "$(cat "$S2LOW_PKI/shared.hash")"},
  {"id": 3, "login": "mairie2", "password": "secret-2", "authority_id": 2, "actes": "TT", "helios": "TT",
   "cert_hash": "$(cat "$S2LOW_PKI/shared.hash")"}]}
J
	S2LOW_SVC_PORT=$(sdr_free_port)
	S2LOW_PORT=$(sdr_free_port)
	s2low_service_run || return 1
	# the issuer names of the certificates the platform accepts (Apache's CA store)
	s2low_known=$(openssl x509 -in "$S2LOW_PKI/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	N=$T/nginx
	cat > "$N/nginx.conf" <<C
worker_processes 1;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
daemon off;
pid $N/nginx.pid;
error_log $N/error.log info;
events { worker_connections 64; }
http {
	access_log $N/access.log;
	client_body_temp_path $N/body;
	proxy_temp_path $N/proxy;
	fastcgi_temp_path $N/fastcgi;
	uwsgi_temp_path $N/uwsgi;
	scgi_temp_path $N/scgi;
	client_max_body_size 512m;
	map_hash_bucket_size 256;
	map \$ssl_client_i_dn \$s2low_known_ca {
		default 0;
		"$s2low_known" 1;
	}
	server {
		listen 127.0.0.1:$S2LOW_PORT ssl;
		server_name localhost;
		ssl_certificate $S2LOW_PKI/server-chain.pem;
		ssl_certificate_key $S2LOW_PKI/server.key;
		# trust anchors = the RGS roots only: the intermediate must come from the client
		ssl_client_certificate $S2LOW_PKI/rgs-roots.pem;
		ssl_verify_client optional_no_ca;
		ssl_verify_depth 4;
		proxy_intercept_errors on;
		error_page 599 = @lost;
		location @lost { return 444; }
		location /_admin/ { return 404; }
		location / {
			if (\$ssl_client_verify = NONE) { return 444; }
			if (\$s2low_known_ca = 0) { return 444; }
			proxy_pass http://127.0.0.1:$S2LOW_SVC_PORT;
			proxy_http_version 1.1;
			proxy_read_timeout 120s;
			proxy_set_header Host \$http_host;
			proxy_set_header X-SSL-Client-Cert \$ssl_client_escaped_cert;
			proxy_set_header X-SSL-Client-Verify \$ssl_client_verify;
		}
	}
}
C
	nginx -p "$N" -c "$N/nginx.conf" 2>>"$N/error.log" &
	S2LOW_NGINX_PID=$!
	sdr_kill_on_exit $S2LOW_NGINX_PID
	s2low_wait_port "$S2LOW_PORT" nginx || { cat "$N/error.log"; return 1; }
	S2LOW_URL=https://127.0.0.1:$S2LOW_PORT
	S2LOW_ADMIN=http://127.0.0.1:$S2LOW_SVC_PORT/_admin
	export S2LOW_URL S2LOW_ADMIN S2LOW_PKI
}

s2low_proxy_start() {
	S2LOW_PROXY_PORT=$(sdr_free_port)
	$SDR_PY "$S2LOW_DIR/fault-proxy.py" --listen "$S2LOW_PROXY_PORT" --to "$S2LOW_PORT" \
		--log "$T/proxy.log" "$@" 2>>"$T/proxy.err" &
	S2LOW_PROXY_PID=$!
	sdr_kill_on_exit $S2LOW_PROXY_PID
	s2low_wait_port "$S2LOW_PROXY_PORT" proxy || return 1
	S2LOW_PROXY_URL=https://127.0.0.1:$S2LOW_PROXY_PORT
	export S2LOW_PROXY_URL
}

s2low_admin() {
	if [ $# -ge 2 ]; then
		curl -sS -H 'Content-Type: application/json' --data-binary "$2" "$S2LOW_ADMIN/$1"
	else
		curl -sS "$S2LOW_ADMIN/$1"
	fi
}

# By hand: SINADUR_SOURCE_ROOT=$PWD sh tests/s2low/rig.sh run  - start the rig, print its
# variables, keep it up until Ctrl-C.
if [ "$(basename "$0")" = rig.sh ] && [ "${1:-}" = run ]; then
	. "${SINADUR_SOURCE_ROOT:?}/tests/fixtures/lib.sh"
	S2LOW_DIR=$SDR_SRC/tests/s2low
	sdr_tmpdir s2low-rig
	s2low_rig_start
	echo "S2LOW_URL=$S2LOW_URL"
	echo "S2LOW_ADMIN=$S2LOW_ADMIN"
	echo "S2LOW_PKI=$S2LOW_PKI"
	echo "# e.g. curl --cacert \$S2LOW_PKI/root.pem --cert \$S2LOW_PKI/client-chain.pem --key \$S2LOW_PKI/client.key \$S2LOW_URL/api/test-rgs.php"
	wait
fi
