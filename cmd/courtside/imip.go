package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/notify"
	"courtside/storage"
)

// Invitations by e-mail (iMIP, RFC 6047): the offers, moves and cancellations sent to
// interpreters carry the booking's iTIP object (calendar.BuildInvitation), whose ORGANIZER is
// the reply address; the interpreter's calendar app answers there, and the inbound SMTP
// listener (notify.MailServer) hands the answer to storage.InvitationService.AnswerInvitation.
//
//	--imip-address ADDR      COURTSIDE_IMIP_ADDRESS      the reply address, such as bookings@courtside.example.org;
//	                                                     unset, e-mails carry no invitation
//	--smtp-addr HOST:PORT    COURTSIDE_SMTP_ADDR         the inbound SMTP listener (off when empty)
//	--smtp-cert, --smtp-key  COURTSIDE_SMTP_CERT, _KEY   a PEM certificate and key: STARTTLS is offered
//	--smtp-relays CIDR,...   COURTSIDE_SMTP_RELAYS       only these clients are served (the MX relay in front)
//	--smtp-authserv-id ID    COURTSIDE_SMTP_AUTHSERV_ID  replies must carry the relay's Authentication-Results
//	                                                     with the From domain passing DMARC, or aligned DKIM or SPF
type mailFlags struct {
	address    string
	addr       string
	cert, key  string
	relaysFlag string
	authServID string

	relays []netip.Prefix
	tls    *tls.Config
}

func (f *mailFlags) flags(fs *flag.FlagSet) {
	fs.StringVar(&f.address, "imip-address", env("COURTSIDE_IMIP_ADDRESS", ""),
		"the address interpreters' calendar apps answer booking invitations to (the invitations' ORGANIZER), received by --smtp-addr; "+
			"unset, offers by e-mail carry no invitation (COURTSIDE_IMIP_ADDRESS)")
	fs.StringVar(&f.addr, "smtp-addr", env("COURTSIDE_SMTP_ADDR", ""),
		"listen address of the inbound SMTP server of invitation replies, such as :25; off when empty (COURTSIDE_SMTP_ADDR)")
	fs.StringVar(&f.cert, "smtp-cert", env("COURTSIDE_SMTP_CERT", ""), "PEM certificate (chain) of the inbound SMTP server: STARTTLS is offered (COURTSIDE_SMTP_CERT)")
	fs.StringVar(&f.key, "smtp-key", env("COURTSIDE_SMTP_KEY", ""), "PEM private key of --smtp-cert (COURTSIDE_SMTP_KEY)")
	fs.StringVar(&f.relaysFlag, "smtp-relays", env("COURTSIDE_SMTP_RELAYS", ""),
		"comma-separated addresses or CIDR ranges of the mail relays allowed to connect to --smtp-addr; anyone when empty (COURTSIDE_SMTP_RELAYS)")
	fs.StringVar(&f.authServID, "smtp-authserv-id", env("COURTSIDE_SMTP_AUTHSERV_ID", ""),
		"the authserv-id of the relay's Authentication-Results header; set, a reply counts only when its From domain passed DMARC, "+
			"or DKIM or SPF aligned with it, there (needs --smtp-relays) (COURTSIDE_SMTP_AUTHSERV_ID)")
}

// parse checks the mail flags; an error names the flag.
func (f *mailFlags) parse() error {
	f.address = strings.TrimSpace(f.address)
	if f.address != "" {
		if err := courtside.ValidateEmail(f.address); err != nil {
			return usagef("--imip-address: %q is not an e-mail address such as bookings@courtside.example.org", f.address)
		}
	}
	if f.addr == "" {
		if f.cert != "" || f.key != "" || f.relaysFlag != "" || f.authServID != "" {
			return usagef("--smtp-cert, --smtp-key, --smtp-relays and --smtp-authserv-id need --smtp-addr")
		}
		return nil
	}
	if f.address == "" {
		return usagef("--smtp-addr: give --imip-address too, the address the listener receives replies for")
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return usagef("--smtp-addr: want HOST:PORT such as :25 or 127.0.0.1:2525; got %q", f.addr)
	}
	if (f.cert == "") != (f.key == "") {
		return usagef("--smtp-cert and --smtp-key go together")
	}
	if f.cert != "" {
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return usagef("--smtp-cert, --smtp-key: %v", err)
		}
		f.tls = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	for _, s := range strings.Split(f.relaysFlag, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return usagef("--smtp-relays: %q is neither an address nor a CIDR range such as 10.0.0.0/8", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		f.relays = append(f.relays, p.Masked())
	}
	if f.authServID = strings.TrimSpace(f.authServID); f.authServID != "" && len(f.relays) == 0 {
		return usagef("--smtp-authserv-id: give --smtp-relays too; Authentication-Results are believed only from a relay")
	}
	return nil
}

// invitation returns the worker's Invitation function: the iTIP object of a booking's offer
// (REQUEST), of its hearing's move (REQUEST, the same UID, a higher SEQUENCE), of its
// cancellation (CANCEL) and of the offer's expiry (a CANCEL withdrawing the invitation alone,
// one SEQUENCE above the offer's), with Courtside's reply address as ORGANIZER.
func (m *Main) invitation(address string) func(d *courtside.PendingDelivery, to string, now time.Time) (*notify.CalendarPart, error) {
	domain, invitations := address[strings.LastIndexByte(address, '@')+1:], storage.NewInvitationService(m.DB)
	return func(d *courtside.PendingDelivery, to string, now time.Time) (*notify.CalendarPart, error) {
		method, sequence, withdrawn := calendar.MethodRequest, d.Sequence, false
		switch d.Kind {
		case courtside.NotifyHearingCancelled:
			method = calendar.MethodCancel
		case courtside.NotifyBookingExpired:
			method, sequence, withdrawn = calendar.MethodCancel, d.Sequence+1, true
		}
		data, err := calendar.BuildInvitation(calendar.Invitation{Method: method, UID: invitations.InvitationUID(d.Notice.BookingID, d.Notice.InterpreterID, domain),
			Sequence: sequence, Withdrawn: withdrawn, Stamp: now, Organizer: address, Attendee: to, Hearing: d.Notice.Hearing, Language: d.Notice.Language})
		if err != nil {
			return nil, err
		}
		return &notify.CalendarPart{Method: method, Data: data}, nil
	}
}

// startMail starts the inbound SMTP listener of invitation replies, when --smtp-addr is set.
func (m *Main) startMail(stdout io.Writer) error {
	f := m.Mail
	if f.addr == "" {
		if f.address != "" {
			m.Logger.Warn("invitations name a reply address but no --smtp-addr receives it: replies will not reach Courtside")
		}
		return nil
	}
	srv, err := notify.NewMailServer(notify.MailConfig{Address: f.address, TLSConfig: f.tls, Relays: f.relays, AuthServID: f.authServID,
		Replies: m.answerReplies, Logger: m.Logger, Observe: func(outcome string) { m.metrics.mail.WithLabelValues(outcome).Inc() }})
	if err != nil {
		return usagef("--imip-address: %s", courtside.ErrorMessage(err))
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return usagef("--smtp-addr: %v", err)
	}
	m.mail, m.mailDone = srv, make(chan struct{})
	go func() {
		defer close(m.mailDone)
		if err := srv.Serve(ln); err != nil {
			m.Logger.Error("smtp server stopped", "err", err)
		}
	}()
	m.Logger.Info("mail listening", "addr", ln.Addr().String(), "starttls", f.tls != nil, "relays", len(f.relays), "authserv-id", f.authServID != "")
	fmt.Fprintf(stdout, "listening for mail on smtp://%s\n", ln.Addr().String())
	return nil
}

// stopMail stops the inbound SMTP listener.
func (m *Main) stopMail() {
	if m.mail != nil {
		m.mail.Close()
		<-m.mailDone
	}
}

// answerReplies applies the iTIP REPLY objects of an inbound message (Gmail sends the same one
// twice: inline and attached) as the message's From. Nothing about the message is logged but
// the outcome.
func (m *Main) answerReplies(ctx context.Context, in notify.InboundMail) {
	seen := map[string]bool{}
	for _, data := range in.Calendars {
		reply, err := calendar.ParseReply(data)
		if err != nil {
			continue
		}
		if seen[reply.UID] {
			continue
		}
		seen[reply.UID] = true
		reply.From = in.From
		b, err := storage.NewInvitationService(m.DB).AnswerInvitation(ctx, reply)
		if code := courtside.ErrorCode(err); err != nil && code == courtside.EINTERNAL {
			if errors.Is(err, context.Canceled) {
				m.Logger.Info("invitation reply not applied", "reason", "shutting down")
			} else {
				m.Logger.Error("invitation reply", "err", err)
			}
			m.metrics.replies.WithLabelValues(replyFailed).Inc()
		} else if err != nil {
			m.Logger.Info("invitation reply refused", "code", code, "reason", courtside.ErrorMessage(err))
			m.metrics.replies.WithLabelValues(replyRefused).Inc()
		} else {
			m.Logger.Info("invitation reply", "booking", b.ID, "status", b.Status)
			m.metrics.replies.WithLabelValues(replyAnswered).Inc()
		}
	}
	if len(seen) == 0 {
		m.Logger.Info("invitation reply dropped", "reason", "not an iTIP REPLY")
		m.metrics.replies.WithLabelValues(replyNotAReply).Inc()
	}
}
