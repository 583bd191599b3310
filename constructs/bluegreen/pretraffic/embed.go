// Package pretraffic carries the pre-traffic check function's source
// (index.mjs, unit-tested with `node --test`) inside the Go binary, so the
// construct works from any working directory and deploys without Docker.
package pretraffic

import (
	_ "embed"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

//go:embed index.mjs
var source []byte

var (
	once sync.Once
	dir  string
	err  error
)

// Handler is the function's entry point.
const Handler = "index.handler"

// Code returns the function code as a directory asset holding only index.mjs.
// The directory is written once per process; the asset hash depends only on
// the source, so templates are stable across runs.
func Code() awslambda.Code {
	once.Do(func() {
		dir, err = os.MkdirTemp("", "pretraffic-asset-")
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "index.mjs"), source, 0o644)
		}
	})
	if err != nil {
		panic("pretraffic: writing the function asset: " + err.Error())
	}
	return awslambda.Code_FromAsset(jsii.String(dir), nil)
}
