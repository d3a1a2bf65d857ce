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

package embeddedetcd

import (
	"os"
	"sync/atomic"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// etcdLogger logs etcd's errors to stderr as JSON, and nothing once stopping
// is set: closing a member makes each of its listeners report "use of closed
// network connection" at error level with a stack trace, which would read
// like a failure at every clean shutdown.
func etcdLogger(stopping *atomic.Bool) func(*embed.Config) error {
	core := zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.Lock(os.Stderr),
		zapcore.ErrorLevel,
	)
	return embed.NewZapLoggerBuilder(zap.New(quietWhenStopping{Core: core, stopping: stopping}))
}

type quietWhenStopping struct {
	zapcore.Core
	stopping *atomic.Bool
}

func (c quietWhenStopping) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.stopping.Load() {
		return ce
	}
	return c.Core.Check(e, ce)
}

func (c quietWhenStopping) With(fields []zapcore.Field) zapcore.Core {
	return quietWhenStopping{Core: c.Core.With(fields), stopping: c.stopping}
}
