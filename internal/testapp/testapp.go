// Package testapp builds the app the way `cdk synth` does (same cdk.json
// context, same wiring) so that tests assert on what users deploy.
package testapp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/config"
	_ "ecs-bluegreen/internal/jsiinode"
	"ecs-bluegreen/stacks"
)

// Syntheses counts the apps synthesized by this process, so that test
// packages can prove they synthesize each stack once.
var Syntheses atomic.Int64

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
func Context(overrides map[string]interface{}) map[string]interface{} {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "cdk.json"))
	if err != nil {
		panic(err)
	}
	var doc struct {
		Context map[string]interface{} `json:"context"`
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
func New(overrides map[string]interface{}) (*App, error) {
	ctx := Context(overrides)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	cfg, err := config.Load(app.Node())
	if err != nil {
		return nil, err
	}
	sys := stacks.NewApp(app, cfg)
	return &App{App: app, Config: cfg, System: sys}, nil
}

// MustSynth builds and synthesizes the app, panicking on a configuration error.
func MustSynth(overrides map[string]interface{}) *App {
	a, err := New(overrides)
	if err != nil {
		panic(err)
	}
	a.Synth()
	return a
}

// Synth synthesizes the app and counts the synthesis.
func (a *App) Synth() cxapi.CloudAssembly {
	Syntheses.Add(1)
	return a.App.Synth(nil)
}

// Stack returns a stack of the app by construct ID.
func (a *App) Stack(id string) awscdk.Stack {
	return a.App.Node().FindChild(jsii.String(id)).(awscdk.Stack)
}

// StackIDs lists the construct IDs of the app's stacks.
func (a *App) StackIDs() []string {
	var ids []string
	for _, c := range *a.App.Node().Children() {
		if awscdk.Stack_IsStack(c) != nil && *awscdk.Stack_IsStack(c) {
			ids = append(ids, *c.Node().Id())
		}
	}
	return ids
}
