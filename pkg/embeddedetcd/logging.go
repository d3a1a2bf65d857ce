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
