#!/usr/bin/env bash
# Runs a private Dovecot IMAP server for the IMAP integration test
# (imap_dovecot_test.go), in the foreground, until it is signalled:
#
#   run.sh DIR PORT USER PASSWORD
#
# Everything lives under DIR: the configuration, Dovecot's runtime and state
# directories, its log, a passwd-file with the one user, and that user's
# Maildir. It listens on 127.0.0.1:PORT only, without TLS, and allows
# plaintext LOGIN and AUTHENTICATE PLAIN there (loopback only). No system
# service is used or touched; Debian's dovecot-imapd package need only be
# installed.
#
# The script ends by exec'ing Dovecot's master process with -F, so the PID
# the caller started is Dovecot's: SIGTERM stops it and its children.
#
# Dovecot will not run a mail process as root, nor its login processes as
# the user that owns the mail. Started as root, it uses Debian's "dovecot"
# user for the mail and the internal processes and "dovenull" for logins,
# as the packaged service does; started as anyone else, it runs everything
# as that user, which Dovecot allows for an unprivileged instance.
set -euo pipefail

if [ $# -ne 4 ]; then
	echo "usage: $0 DIR PORT USER PASSWORD" >&2
	exit 2
fi
dir=$(realpath -m "$1")
port=$2
user=$3
pass=$4
dovecot=${DOVECOT:-/usr/sbin/dovecot}

if [ "$(id -u)" = 0 ]; then
	mail_user=dovecot
	login_user=dovenull
	chroot=
else
	mail_user=$(id -un)
	login_user=$mail_user
	# Only root may chroot, which Dovecot does for its login processes
	# and anvil unless told not to.
	chroot='chroot ='
fi
mail_group=$(id -gn "$mail_user")

mkdir -p "$dir/run" "$dir/state" "$dir/mail" "$dir/home"
# The mail processes drop to mail_user, and login processes must reach the
# sockets under run/: the tree must be theirs, and DIR traversable.
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then
	chown -R "$mail_user:$mail_group" "$dir/mail" "$dir/home"
fi

# {PLAIN}: the scheme Dovecot stores the test password in; fine for a
# throwaway server, never for a real one.
printf '%s:{PLAIN}%s\n' "$user" "$pass" >"$dir/passwd"
chmod 644 "$dir/passwd"

cat >"$dir/dovecot.conf" <<CONF
# Written by $0 for a test; see there.
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
# Plaintext authentication on a loopback listener without TLS.
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%u
# Dovecot refuses system UIDs below 500 unless told otherwise.
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = $mail_user
default_internal_group = $mail_group
default_login_user = $login_user

service anvil {
  $chroot
}
service imap-login {
  $chroot
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
# No other listeners: nothing else of the host's is claimed.
service pop3-login {
  $chroot
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  $chroot
  inet_listener submission {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0600
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$mail_user gid=$mail_group home=$dir/home/%u
}
CONF

exec "$dovecot" -F -c "$dir/dovecot.conf"
