// Package testapp builds the app the way `cdk synth` does (same cdk.json
// context, same wiring) so that tests assert on what users deploy.
package testapp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	_ "ecs-bluegreen/internal/jsiinode"
	"ecs-bluegreen/stacks"
)

// Syntheses counts the apps synthesized by this process through Synth.
var Syntheses atomic.Int64

var (
	countsMu sync.Mutex
	// stackSyntheses counts the syntheses of each stack of each app that
	// went through Synth, keyed by "app <n> <stack path>".
	stackSyntheses = map[string]int{}
)

// synthesisCounter is a validation, which CDK runs on every synthesis of the
// construct it is added to (a forced re-synthesis, such as the one
// assertions.Annotations_FromStack runs, included). It only counts.
type synthesisCounter struct{ key string }

func (c *synthesisCounter) Validate() *[]*string {
	countsMu.Lock()
	defer countsMu.Unlock()
	stackSyntheses[c.key]++
	return &[]*string{}
}

// Synth synthesizes an app and counts it, and counts from then on every
// synthesis of each of its stacks, so that a test package can prove it
// synthesizes each stack once.
func Synth(app awscdk.App) cxapi.CloudAssembly {
	n := Syntheses.Add(1)
	for _, stack := range stacksOf(app) {
		key := fmt.Sprintf("app %d %s", n, *stack.Node().Path())
		stack.Node().AddValidation(&synthesisCounter{key: key})
	}
	return app.Synth(nil)
}

// StackSyntheses returns how often each stack of the apps given to Synth has
// been synthesized, keyed by "app <n> <stack path>".
func StackSyntheses() map[string]int {
	countsMu.Lock()
	defer countsMu.Unlock()
	out := make(map[string]int, len(stackSyntheses))
	for k, v := range stackSyntheses {
		out[k] = v
	}
	return out
}

// RepoRoot finds the directory holding cdk.json, walking up from the working directory.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cdk.json")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("testapp: cdk.json not found above the working directory")
		}
		dir = parent
	}
}

// Context returns the context of cdk.json with overrides applied, as the CLI
// would pass it with -c key=value.
func Context(overrides map[string]any) map[string]any {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "cdk.json"))
	if err != nil {
		panic(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		panic(fmt.Sprintf("testapp: cdk.json: %v", err))
	}
	for k, v := range overrides {
		doc.Context[k] = v
	}
	return doc.Context
}

// App is a synthesized app with its stacks.
type App struct {
	App    awscdk.App
	Config *config.Config
	System *stacks.System
}

// New builds the app with cdk.json's context plus overrides. It returns the
// configuration error, if any, without building stacks.
func New(overrides map[string]any) (*App, error) {
	ctx := Context(overrides)
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &ctx,
		// CDK's built-in CloudFormation validation checks these very
		// templates in `cdk synth` (make test's cli-synth step, where a
		// finding fails the synth since cdk.json sets
		// validateAgainstDefaultRules), next to cfn-lint and cfn-guard. Its
		// WebAssembly engine takes seconds to start in every process, so
		// tests, which assert on the templates, do not run it again.
		BuiltinCloudFormationValidation: jsii.Bool(false),
	})
	cfg, err := config.Load(app.Node())
	if err != nil {
		return nil, err
	}
	sys := stacks.NewApp(app, cfg)
	return &App{App: app, Config: cfg, System: sys}, nil
}

// MustSynth builds and synthesizes the app, panicking on a configuration error.
func MustSynth(overrides map[string]any) *App {
	a, err := New(overrides)
	if err != nil {
		panic(err)
	}
	a.Synth()
	return a
}

// Synth synthesizes the app, counting it and its stacks (see Synth).
func (a *App) Synth() cxapi.CloudAssembly { return Synth(a.App) }

// Stack returns a stack of the app by construct ID.
func (a *App) Stack(id string) awscdk.Stack {
	return a.App.Node().FindChild(jsii.String(id)).(awscdk.Stack)
}

// StackIDs lists the construct IDs of the app's stacks.
func (a *App) StackIDs() []string {
	var ids []string
	for _, s := range stacksOf(a.App) {
		ids = append(ids, *s.Node().Id())
	}
	return ids
}

// stacksOf lists the stacks directly under an app.
func stacksOf(app awscdk.App) []awscdk.Stack {
	var out []awscdk.Stack
	for _, c := range *app.Node().Children() {
		if is := awscdk.Stack_IsStack(c); is != nil && *is {
			out = append(out, c.(awscdk.Stack))
		}
	}
	return out
}
