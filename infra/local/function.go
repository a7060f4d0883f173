package local

import (
	"context"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
)

// function is one Lambda function of the stack, invoked through the
// runtime's own decode/encode path (lambda.NewHandler). Like a Lambda
// execution environment it handles one event at a time: the handler
// encodes its answer into a pooled buffer that the next invocation
// reuses (the Lambda runtime is serial, so aws-lambda-go may), and the
// gateway's requests arrive concurrently. Invoke therefore holds the
// function for the call and returns a copy of the answer.
type function struct {
	mu sync.Mutex
	h  lambda.Handler
}

func newFunction(handler any) *function { return &function{h: lambda.NewHandler(handler)} }

// Invoke runs the function on payload and returns its answer, which the
// caller owns.
func (f *function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, err := f.h.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), out...), nil
}
