package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterOrExisting registers c on reg, or returns the collector already
// registered with the same description (name, help, labels). Any other
// registration error (a collector of another type or description under
// the name) is returned with c.
func RegisterOrExisting[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// MustRegisterOrExisting is RegisterOrExisting for collectors whose
// descriptions are fixed in the code, where an error is a programming
// error: it panics, naming who registers.
func MustRegisterOrExisting[C prometheus.Collector](who string, reg prometheus.Registerer, c C) C {
	c, err := RegisterOrExisting(reg, c)
	if err != nil {
		panic(fmt.Sprintf("%s: registering metrics: %v", who, err))
	}
	return c
}
