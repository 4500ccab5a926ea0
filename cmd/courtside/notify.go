package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"courtside"
	"courtside/notify"
	"courtside/storage"
)

// The consumer groups of the two planners.
const (
	reminderPlanner = "reminder-planner"
	noticePlanner   = "notice-planner"
)

// reminderInterval is how often the reminder scheduler fires due reminders; deliveryInterval
// how often the delivery worker looks for due deliveries when it has nothing to do.
const (
	reminderInterval = time.Second
	deliveryInterval = 250 * time.Millisecond
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
//
// Webhook receivers are set per organisation with `courtside webhook set`. A private CA for
// the SMTP server or gateway is trusted through SSL_CERT_FILE, as everywhere in Go.
type notifications struct {
	plan      courtside.ReminderPlan
	worker    *notify.Worker
	stop      context.CancelFunc
	schedDone chan struct{}
	workDone  chan struct{}
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
	if s := getenv("COURTSIDE_DELIVERY_RETRY"); s != "" {
		base, err := time.ParseDuration(s)
		if err != nil || base < 10*time.Millisecond || base > time.Hour {
			return nil, usagef("COURTSIDE_DELIVERY_RETRY: give a duration from 10ms to 1h, e.g. 30s")
		}
		n.worker.Backoff = func(k int) time.Duration {
			d := base
			for i := 1; i < k && d < time.Hour; i++ {
				d *= 2
			}
			return min(d, time.Hour)
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
	m.Router.HandleFirst(noticePlanner, (&storage.NoticePlanner{DB: m.DB}).Handle)
	m.Router.Handle(reminderPlanner, (&storage.ReminderPlanner{DB: m.DB, Plan: n.plan}).Handle)
	w := n.worker
	w.Queue, w.Logger, w.Now = m.DB, m.Logger, m.DB.Now
	// The worker looks as soon as the notice planner has committed new deliveries.
	router := m.Router
	w.Wake = func() <-chan struct{} { return router.Handled(noticePlanner) }
	base := m.Config.BaseURL
	w.RespondURL = func(bookingID, interpreterID int64, expires time.Time) string {
		return fmt.Sprintf("%s/bookings/%d/respond?token=%s", base, bookingID, m.DB.BookingLinkToken(bookingID, interpreterID, expires))
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
		ticker := time.NewTicker(reminderInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if k, err := m.DB.FireDueReminders(ctx, 500); err != nil && ctx.Err() == nil {
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
}

// stopNotifications stops the scheduler and lets the worker finish its batch.
func (m *Main) stopNotifications() {
	if n := m.notify; n != nil && n.stop != nil {
		n.stop()
		<-n.schedDone
		<-n.workDone
	}
}
