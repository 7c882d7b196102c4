package mailin

import (
	"errors"
	"fmt"
	"net"

	"github.com/emersion/go-smtp"
)

// Conditions the SMTP session reports through reply.
var (
	errShuttingDown          = errors.New("mailin: smtp server shutting down")
	errTooManyConnections    = errors.New("mailin: too many smtp connections")
	errTooManyFromIP         = errors.New("mailin: too many smtp connections from one address")
	errInsufficientResources = errors.New("mailin: smtp message memory budget exhausted")
	errTooManyBadRecipients  = errors.New("mailin: too many unknown recipients")
	errSmuggling             = errors.New("mailin: lone dot line with a bare CR or LF in DATA")
	errSessionPanic          = errors.New("mailin: panic in smtp session")
)

// unknownRecipientError names the address refused at RCPT.
type unknownRecipientError struct{ addr string }

func (e *unknownRecipientError) Error() string { return "mailin: no such team address: " + e.addr }
func (e *unknownRecipientError) Unwrap() error { return ErrUnknownRecipient }

// genericTemporary is all a client learns of trouble on our side; the
// detail goes to the log beside the session ID.
var genericTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "temporary local problem, try again later"}

// reply is the one place where an error becomes an SMTP reply. Every error a
// session method returns to go-smtp comes from here, and is always a bare
// *smtp.SMTPError: go-smtp answers anything else from Data with a permanent
// 554, which would bounce mail we only failed to store for a moment.
// Anything not recognised is temporary (451).
func (s *SMTPServer) reply(err error) *smtp.SMTPError {
	if err == nil {
		return nil
	}
	var rej *Rejection
	var unknown *unknownRecipientError
	var nerr net.Error
	switch {
	case errors.As(err, &rej):
		code, enh := rej.Code, smtp.EnhancedCode(rej.Enhanced)
		if code/100 != 4 && code/100 != 5 {
			// A rejection is permanent by definition; keep a bad code from
			// reading as success.
			code, enh = 554, smtp.EnhancedCode{5, 0, 0}
		}
		if enh[0] != code/100 {
			enh = smtp.EnhancedCode{code / 100, 0, 0}
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: rej.Reason}
	case errors.As(err, &unknown):
		// RFC 3463 X.1.1: bad destination mailbox address.
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: fmt.Sprintf("<%s>: no such team address here", unknown.addr)}
	case errors.Is(err, errTooManyBadRecipients):
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
			Message: s.opts.Domain + " too many unknown recipients, closing connection"}
	case errors.Is(err, errShuttingDown):
		// RFC 5321 §3.8: 421 when the service is shutting down.
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
			Message: s.opts.Domain + " shutting down, try again later"}
	case errors.Is(err, errTooManyConnections):
		// RFC 3463 X.4.5: mail system congestion.
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 5},
			Message: s.opts.Domain + " too many connections, try again later"}
	case errors.Is(err, errTooManyFromIP):
		// RFC 3463 X.7.0: other security or policy status.
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
			Message: s.opts.Domain + " too many connections from your address, try again later"}
	case errors.Is(err, errInsufficientResources):
		// RFC 3463 X.3.1: mail system full, for now; the sender retries.
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 1},
			Message: "insufficient system resources, try again later"}
	case errors.Is(err, smtp.ErrDataTooLarge):
		// RFC 3463 X.3.4: message too big for system.
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
			Message: fmt.Sprintf("message exceeds the size limit of %d bytes", s.opts.MaxMessageBytes)}
	case errors.Is(err, smtp.ErrTooLongLine):
		// RFC 5321 §4.2.2 names "command line too long" under 500; go-smtp
		// closes the connection after it.
		return &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
			Message: fmt.Sprintf("line too long, the limit is %d bytes", s.opts.MaxLineLength)}
	case errors.Is(err, errSmuggling):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
			Message: "message refused: a line holding only \".\" ends in a bare CR or LF; send CRLF line endings"}
	case errors.As(err, &nerr) && nerr.Timeout():
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
			Message: s.opts.Domain + " timeout reading the message, closing connection"}
	default:
		return genericTemporary
	}
}

// replyError returns reply(err) as an error, keeping a nil reply nil: a
// typed nil pointer in an error interface would read as a failure.
func (s *SMTPServer) replyError(err error) error {
	if r := s.reply(err); r != nil {
		return r
	}
	return nil
}
