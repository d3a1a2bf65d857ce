/*
Copyright The mpijob-apiserver Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package embeddedetcd runs a single etcd member inside the server process,
// for the standalone mode: one command on a laptop, no etcd to install.
//
// The member listens on unix sockets inside the data directory only, so the
// only way to its data is through this server's authentication (the directory
// is 0700 and the sockets 0600); it never opens a TCP port.
package embeddedetcd

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// DefaultMaxRequestBytes is larger than the API server's 3 MiB body limit, so
// that etcd itself is never what refuses a legal body (its own default is
// 1.5 MiB). The API server's etcd client still sends at most 2 MiB (the etcd
// client's default, which k8s.io/apiserver does not let us raise): objects
// between 2 and 3 MiB are refused with a 413 by the registry, never a 500.
const DefaultMaxRequestBytes = 4 * 1024 * 1024

// Options are the flags of the embedded member.
type Options struct {
	// QuotaBackendBytes is the size at which etcd raises its NOSPACE alarm
	// and refuses writes; 0 keeps etcd's default (2 GiB).
	QuotaBackendBytes int64
	// MaxRequestBytes is the largest request etcd accepts.
	MaxRequestBytes uint
	// StartTimeout bounds the wait for the member to become ready.
	StartTimeout time.Duration

	// APIBodyLimit is the largest request body the API server in front
	// accepts (not a flag): MaxRequestBytes below it would let etcd refuse
	// bodies the API accepted.
	APIBodyLimit int64
}

// NewOptions returns the defaults for an API server whose request bodies
// are at most apiBodyLimit bytes.
func NewOptions(apiBodyLimit int64) *Options {
	return &Options{
		MaxRequestBytes: DefaultMaxRequestBytes,
		StartTimeout:    60 * time.Second,
		APIBodyLimit:    apiBodyLimit,
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.QuotaBackendBytes, "embedded-etcd-quota-backend-bytes", o.QuotaBackendBytes,
		"Size in bytes at which the embedded etcd refuses further writes (0: etcd's default of 2 GiB).")
	fs.UintVar(&o.MaxRequestBytes, "embedded-etcd-max-request-bytes", o.MaxRequestBytes,
		"Largest request the embedded etcd accepts; keep it above the "+mebibytes(o.APIBodyLimit)+" API body limit.")
	fs.DurationVar(&o.StartTimeout, "embedded-etcd-start-timeout", o.StartTimeout,
		"How long to wait for the embedded etcd to become ready.")
}

// Validate reports flag values that cannot work.
func (o *Options) Validate() []error {
	var errs []error
	if o.QuotaBackendBytes < 0 {
		errs = append(errs, fmt.Errorf("--embedded-etcd-quota-backend-bytes must not be negative"))
	}
	if int64(o.MaxRequestBytes) < o.APIBodyLimit {
		errs = append(errs, fmt.Errorf("--embedded-etcd-max-request-bytes must be at least %s (the API body limit), got %d",
			mebibytes(o.APIBodyLimit), o.MaxRequestBytes))
	}
	if o.StartTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--embedded-etcd-start-timeout must be positive"))
	}
	return errs
}

func mebibytes(n int64) string { return fmt.Sprintf("%g MiB", float64(n)/(1<<20)) }
