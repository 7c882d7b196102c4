// Package links makes and checks what digests carry that must not be
// guessed: members' reply addresses, <team-local>+<token>@<domain>, and the
// signed mute and unsubscribe URLs.
//
// Every token and signature is an HMAC-SHA256 under the instance secret
// (store.Tx.Secrets). A Signer makes them with the current secret and
// accepts those made with earlier secrets still within their grace period,
// so that rotating the secret does not break the reply addresses in
// digests already in people's mailboxes. The digest builder makes
// addresses; the SMTP side and the web side check them.
package links
