// Package templates renders the mail tidings sends — the digest, the
// notification of one message as it arrives, and the short automatic
// answers — as a plain-text and (but for the answers) an HTML part.
//
// The templates are embedded; New takes a directory whose files of the same
// names replace them, so an instance can restyle its mail without a build.
// The data they see is this package's own view model (Digest and the types
// it holds): already filtered, ordered and formatted by the caller, so that
// a template only lays out.
//
// Message text is Markdown. In the HTML part it is rendered with goldmark,
// sanitised with bluemonday (links kept, remote images shown as links and
// never loaded, no raw HTML) and given inline styles, because Gmail and
// Outlook drop most of a <style> block. The text part is wrapped at 72
// columns and lists its links as numbered references at the end.
package templates
