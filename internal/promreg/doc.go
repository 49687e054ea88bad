// Package promreg registers Prometheus collectors that several components
// of one replica may share: a second writer, handler set or connector on
// the same registry gets the collector the first registered under the
// same name and help, instead of an error.
package promreg
