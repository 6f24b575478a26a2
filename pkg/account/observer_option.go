package account

import "context"

// ServiceOption configures a Service at construction (NewService).
type ServiceOption func(*Service)

// WithObserver makes o see the service's audit events (EventObserver); without it they
// go nowhere.
func WithObserver(o EventObserver) ServiceOption {
	return func(s *Service) {
		if o != nil {
			s.observer = o
		}
	}
}

// Observer is the service's event observer (a no-op one unless WithObserver gave one).
func (s *Service) Observer() EventObserver { return s.observer }

type noObserver struct{}

func (noObserver) Observe(context.Context, Event) {}
