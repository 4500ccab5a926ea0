package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"courtside"
	"courtside/notify"
	"courtside/storage"
	"courtside/web"
)

// The consumer groups of the two planners.
const (
	reminderPlanner = "reminder-planner"
	noticePlanner   = "notice-planner"
)

// reminderInterval is how often the reminder scheduler fires due reminders; deliveryInterval
// how often the delivery worker looks for due deliveries when it has nothing to do;
// escalationInterval how often the escalation sweep looks for unacknowledged notices.
const (
	reminderInterval   = time.Second
	deliveryInterval   = 250 * time.Millisecond
	escalationInterval = time.Second
)

// notifications is the configuration of reminders and deliveries, from the environment:
//
//	COURTSIDE_SMTP_URL, COURTSIDE_SMTP_FROM   e-mail (smtp:// with STARTTLS, or smtps://)
//	COURTSIDE_SMS_URL, COURTSIDE_SMS_FROM     the SMS gateway (Messages API shape)
//	COURTSIDE_REMINDERS                       leads, e.g. victim=168h,24h;advocate=48h,2h;interpreter=48h,@07:00
//	COURTSIDE_TEMPLATES                       a directory of templates overriding the built-in ones
//	COURTSIDE_DELIVERY_ATTEMPTS               failed sends before a delivery is FAILED (default 5)
//	COURTSIDE_DELIVERY_RETRY                  the first backoff, doubling up to an hour (default 30s)
//	COURTSIDE_DELIVERY_LEASE                  how long a leased batch is the worker's alone (default 2m):
//	                                          after a crash, its deliveries are sent again when it runs out
//	COURTSIDE_DELIVERY_RETRY_FOR              how long a temporary failure on a recipient's last channel is
//	                                          retried (default 24h, never past halfway to the hearing)
//	COURTSIDE_ACK_WINDOW                      how long a victim has to acknowledge a notice before it escalates
//	                                          (default 24h, never past halfway to the hearing)
//	COURTSIDE_ACK_BASE_URL                    the public URL of the notices' acknowledgement links, under a
//	                                          neutral host name (default: the base URL)
//	COURTSIDE_SMS_INBOUND_SECRET              the key the SMS gateway signs its callbacks with (its auth
//	                                          token): enables /hooks/sms replies and delivery receipts
//
// Webhook receivers are set per organisation with `courtside webhook set`. A private CA for
// the SMTP server or gateway is trusted through SSL_CERT_FILE, as everywhere in Go.
type notifications struct {
	plan      courtside.ReminderPlan
	worker    *notify.Worker
	stop      context.CancelFunc
	schedDone chan struct{}
	workDone  chan struct{}
	escDone   chan struct{}
	// ackBase is COURTSIDE_ACK_BASE_URL; inboundSecret COURTSIDE_SMS_INBOUND_SECRET.
	ackBase       string
	inboundSecret string
}

// loadNotifications reads the notification settings; an error names the variable.
func loadNotifications(getenv func(string) string) (*notifications, error) {
	n := &notifications{plan: courtside.DefaultReminderPlan(), worker: &notify.Worker{}}
	if s := getenv("COURTSIDE_REMINDERS"); s != "" {
		plan, err := courtside.ParseReminderPlan(s)
		if err != nil {
			return nil, usagef("COURTSIDE_REMINDERS: %s", courtside.ErrorMessage(err))
		}
		n.plan = plan
	}
	channels, err := notify.FromEnv(getenv)
	if err != nil {
		return nil, usagef("%v", err)
	}
	n.worker.Senders = channels
	// The templates are chosen here, before the worker runs, because the acknowledgement
	// page and the SMS callbacks share them with the worker while it runs.
	n.worker.Templates = notify.DefaultTemplates()
	if dir := getenv("COURTSIDE_TEMPLATES"); dir != "" {
		if n.worker.Templates, err = notify.LoadTemplates(dir); err != nil {
			return nil, usagef("COURTSIDE_TEMPLATES: %v", err)
		}
	}
	if s := getenv("COURTSIDE_DELIVERY_ATTEMPTS"); s != "" {
		if n.worker.MaxAttempts, err = strconv.Atoi(s); err != nil || n.worker.MaxAttempts < 1 || n.worker.MaxAttempts > 50 {
			return nil, usagef("COURTSIDE_DELIVERY_ATTEMPTS: give a number from 1 to 50")
		}
	}
	if s := getenv("COURTSIDE_DELIVERY_LEASE"); s != "" {
		lease, err := time.ParseDuration(s)
		if err != nil || lease < time.Second || lease > time.Hour {
			return nil, usagef("COURTSIDE_DELIVERY_LEASE: give a duration from 1s to 1h, e.g. 2m")
		}
		n.worker.Lease = lease
		n.worker.SendTimeout = min(30*time.Second, lease/2)
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"COURTSIDE_DELIVERY_RETRY_FOR", &n.worker.RetryFor}, {"COURTSIDE_ACK_WINDOW", &n.worker.AckWindow}} {
		if s := getenv(d.name); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v < time.Second || v > 7*24*time.Hour {
				return nil, usagef("%s: give a duration from 1s to 168h, e.g. 24h", d.name)
			}
			*d.to = v
		}
	}
	if s := strings.TrimRight(strings.TrimSpace(getenv("COURTSIDE_ACK_BASE_URL")), "/"); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			return nil, usagef("COURTSIDE_ACK_BASE_URL: give an http(s) URL such as https://m.example.org")
		}
		n.ackBase = s
	}
	n.inboundSecret = getenv(notify.EnvSMSInboundSecret)
	if s := getenv("COURTSIDE_DELIVERY_RETRY"); s != "" {
		base, err := time.ParseDuration(s)
		if err != nil || base < 10*time.Millisecond || base > time.Hour {
			return nil, usagef("COURTSIDE_DELIVERY_RETRY: give a duration from 10ms to 1h, e.g. 30s")
		}
		n.worker.Backoff = func(k int) time.Duration {
			d := base
			for i := 1; i < k && d < notify.MaxBackoff; i++ {
				d *= 2
			}
			return min(d, notify.MaxBackoff)
		}
	}
	return n, nil
}

// registerNotifications adds the reminder and notification planners to the router; it runs
// before the router starts.
func (m *Main) registerNotifications() error {
	n, err := loadNotifications(os.Getenv)
	if err != nil {
		return err
	}
	m.notify = n
	// The notice planner first: the groups handle each event in the order they are registered.
	m.handleFirst(noticePlanner, (&storage.NoticePlanner{DB: m.DB}).Handle)
	m.handle(reminderPlanner, (&storage.ReminderPlanner{DB: m.DB, Plan: n.plan}).Handle)
	w := n.worker
	w.Queue, w.Logger, w.Now = storage.NewDeliveryQueue(m.DB), m.Logger, m.DB.Now
	// The worker looks as soon as the notice planner has committed new deliveries.
	router := m.Router
	w.Wake = func() <-chan struct{} { return router.Handled(noticePlanner) }
	base, links, notices := m.Config.BaseURL, storage.NewBookingLinkService(m.DB), storage.NewNoticeLinkService(m.DB)
	w.RespondURL = func(bookingID, interpreterID int64, expires time.Time) string {
		return fmt.Sprintf("%s/bookings/%d/respond?token=%s", base, bookingID, links.BookingLinkToken(bookingID, interpreterID, expires))
	}
	// With a reply address, interpreters' e-mails carry the booking's invitation (imip.go).
	if m.Mail.address != "" {
		w.Invitation = m.invitation(m.Mail.address)
	}
	// Every notice to a victim carries its acknowledgement link, under a neutral host name.
	ackBase := n.ackBase
	if ackBase == "" {
		ackBase = base
	}
	w.AckURL = func(deliveryID, victimID int64, expires time.Time) string {
		return fmt.Sprintf("%s/m/%d?t=%s", ackBase, deliveryID, notices.NoticeLinkToken(deliveryID, victimID, expires))
	}
	if probe := w.AckURL(1<<40, 1, time.Now()); len(probe) > notify.MaxAckURL {
		m.Logger.Warn("acknowledgement links are too long for text messages: give COURTSIDE_ACK_BASE_URL a shorter URL",
			"length", len(probe), "max", notify.MaxAckURL)
	}
	// With the gateway's signing key, texts ask for delivery receipts.
	if sms, ok := w.Senders[courtside.ChannelSMS].(*notify.SMS); ok && n.inboundSecret != "" {
		sms.StatusCallback = base + "/hooks/sms/status"
	}
	for c := range w.Senders {
		m.Logger.Info("delivery channel configured", "channel", c)
	}
	return nil
}

// startNotifications starts the reminder scheduler and the delivery worker.
func (m *Main) startNotifications(ctx context.Context) {
	n := m.notify
	ctx, n.stop = context.WithCancel(context.WithoutCancel(ctx))
	n.schedDone, n.workDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(n.schedDone)
		reminders := storage.NewReminderService(m.DB)
		ticker := time.NewTicker(reminderInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if k, err := reminders.FireDueReminders(ctx, 500); err != nil && ctx.Err() == nil {
				m.Logger.Error("reminder scheduler", "err", err)
			} else if k > 0 {
				m.Logger.Info("reminders fired", "count", k)
			}
		}
	}()
	go func() {
		defer close(n.workDone)
		n.worker.Run(ctx, deliveryInterval)
	}()
	n.escDone = make(chan struct{})
	go func() {
		defer close(n.escDone)
		deliveries := storage.NewDeliveryService(m.DB)
		ticker := time.NewTicker(escalationInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if k, err := deliveries.EscalateUnacknowledged(ctx, 100); err != nil && ctx.Err() == nil {
				m.Logger.Error("escalation sweep", "err", err)
			} else if k > 0 {
				m.Logger.Info("notices escalated", "count", k)
			}
		}
	}()
}

// stopNotifications stops the scheduler and lets the worker finish its batch.
func (m *Main) stopNotifications() {
	if n := m.notify; n != nil && n.stop != nil {
		n.stop()
		<-n.schedDone
		<-n.workDone
		<-n.escDone
	}
}

// noticeRoutes adds the two-way notices' routes: the acknowledgement page of a victim's notice
// (/m/{id}?t=..., the token is the credential) and the SMS gateway's signed callbacks
// (/hooks/sms for replies, /hooks/sms/status for delivery receipts).
func (m *Main) noticeRoutes(mux *http.ServeMux) {
	templates := m.notify.worker.Templates
	mux.Handle("/m/", web.NewAckHandler(web.AckConfig{Notices: storage.NewNoticeLinkService(m.DB), Pages: templates, Logger: m.Logger}))
	hooks := notify.NewInboundHandler(notify.InboundConfig{Service: storage.NewInboundSMSService(m.DB), Templates: templates, Secret: m.notify.inboundSecret,
		BaseURL: m.Config.BaseURL, Logger: m.Logger})
	mux.Handle("/hooks/sms", hooks)
	mux.Handle("/hooks/sms/status", hooks)
}
