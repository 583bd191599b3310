package providernag

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cloudformationinclude"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"ecs-bluegreen/internal/provider"
)

// Resource is a plain CfnResource of a synthesized stack, as cdk-nag saw it.
type Resource struct {
	// Path is the construct path of the plain resource in the app, as
	// cdk-nag's reports name resources.
	Path      string
	LogicalID string
	Type      string
	// View is the L1 that the template's resource became in a copy of the
	// template; nil when CDK has no L1 class for the type (no rule of
	// cdk-nag can apply to it then).
	View awscdk.CfnResource
	// Packs name the NagPacks that visited the view: those that apply to the
	// plain resource in the app.
	Packs []string
	// Messages are the annotations the packs put on the view: errors and
	// warnings are unsuppressed findings.
	Messages []Message
	packs    []cdknag.NagPack
}

// Message is one annotation, with its level (aws:cdk:error, aws:cdk:warning
// or aws:cdk:info) and its first line.
type Message struct{ Level, Text string }

// Evaluation is what the packs found on a stack's plain resources.
type Evaluation struct {
	Resources []Resource
	// Reports are the packs' reports on the views (CSV, one per pack),
	// which name each view by its path in the copy; ViewPaths maps those
	// paths to the plain resources' paths in the app.
	Reports   []string
	ViewPaths map[string]string
}

// Packs returns the NagPacks that apply to a construct: those added as
// aspects to it or to any scope above it.
func Packs(c constructs.IConstruct) []cdknag.NagPack {
	var out []cdknag.NagPack
	for _, scope := range *c.Node().Scopes() {
		for _, a := range *awscdk.Aspects_Of(scope).All() {
			if p, ok := a.(cdknag.NagPack); ok && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Evaluate presents every plain CfnResource of a synthesized stack to the
// packs as the L1 it is. cdk-nag's rules test for L1 classes (an IAM role
// must be an awsiam.CfnRole), so the packs that ran on the app skipped these
// resources. Evaluate copies the plain resources out of the stack's
// synthesized template, as deployed (properties, metadata with cdk-nag's
// suppressions, dependencies), into a template of their own, with a bare
// stand-in for each resource they refer to; includes that template into a
// new app with cloudformation-include, which turns each resource into its L1
// class; and lets the packs that apply to each plain resource in the app
// visit its L1. Nothing is synthesized: a pack checks a construct when it
// visits it. Each pack writes its report on the views into outdir.
func Evaluate(stack awscdk.Stack, templateFile, outdir string) (ev *Evaluation, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: presenting plain resources to cdk-nag: %v", *stack.Node().Path(), r)
		}
	}()
	ev = &Evaluation{ViewPaths: map[string]string{}}
	tpl, err := readTemplate(templateFile)
	if err != nil {
		return nil, err
	}
	deployed, _ := tpl["Resources"].(map[string]any)
	plain := map[string]Resource{}
	var packs []cdknag.NagPack
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		res, ok := provider.Plain(c)
		if !ok || !schemaType(*res.CfnResourceType()) {
			continue
		}
		r := Resource{Path: *c.Node().Path(), LogicalID: fmt.Sprint(stack.Resolve(res.LogicalId())), Type: *res.CfnResourceType(), packs: Packs(c)}
		if _, ok := deployed[r.LogicalID]; !ok {
			continue // not in the template (removed by an override): nothing is deployed to check
		}
		plain[r.LogicalID] = r
		for _, p := range r.packs {
			if !slices.Contains(packs, p) {
				packs = append(packs, p)
			}
		}
	}
	if len(plain) == 0 {
		return ev, nil
	}
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return nil, err
	}
	// The copy's stack name differs from the stack's, so that a pack that
	// also reported on the stack itself starts a new report for the copy.
	name := *stack.StackName() + "-plain-resources"
	copied, err := copyResources(tpl, filepath.Join(outdir, name+".template.json"), plain)
	if err != nil {
		return nil, err
	}
	copyApp := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	copyStack := awscdk.NewStack(copyApp, stack.Node().Id(), &awscdk.StackProps{StackName: jsii.String(name), Env: environment(stack)})
	included := cloudformationinclude.NewCfnInclude(copyStack, jsii.String("Template"), &cloudformationinclude.CfnIncludeProps{
		TemplateFile: jsii.String(copied),
	})
	for _, r := range plain {
		view := included.GetResource(jsii.String(r.LogicalID))
		if _, isPlain := provider.Plain(view); !isPlain {
			r.View = view
			ev.ViewPaths[*view.Node().Path()] = r.Path
			for _, p := range r.packs {
				p.Visit(view)
				r.Packs = append(r.Packs, *p.ReadPackName())
			}
			r.Messages = messages(view)
		}
		ev.Resources = append(ev.Resources, r)
	}
	for _, p := range packs {
		// <pack>-<stage prefix><stack name>-NagReport.csv, as the pack names it.
		reports, _ := filepath.Glob(filepath.Join(outdir, *p.ReadPackName()+"-*"+name+"-NagReport.csv"))
		ev.Reports = append(ev.Reports, reports...)
	}
	sort.Slice(ev.Resources, func(i, j int) bool { return ev.Resources[i].Path < ev.Resources[j].Path })
	return ev, nil
}

// standIn is the type of the stand-ins: a custom resource, which
// cloudformation-include takes without properties and with any attribute.
const standIn = "Custom::StandIn"

// copyResources writes a template holding the given resources of a
// synthesized template as they are, the template's parameters, mappings and
// conditions, and a stand-in, without properties, for each other resource
// that the given ones refer to (by Ref, Fn::GetAtt, Fn::Sub or DependsOn).
// The rest of the template stays out, so a construct cloudformation-include
// cannot read (such as Fn::GetStackOutput) matters only where it is in a
// resource under evaluation.
func copyResources(tpl map[string]any, out string, keep map[string]Resource) (string, error) {
	all, _ := tpl["Resources"].(map[string]any)
	resources := map[string]any{}
	for id := range keep {
		resources[id] = all[id]
	}
	for id := range keep {
		for ref := range references(all[id]) {
			if _, kept := resources[ref]; kept {
				continue
			}
			if _, ok := all[ref]; ok {
				resources[ref] = map[string]any{"Type": standIn}
			}
		}
	}
	copied := map[string]any{"Resources": resources}
	for _, section := range []string{"AWSTemplateFormatVersion", "Parameters", "Mappings", "Conditions"} {
		if v, ok := tpl[section]; ok {
			copied[section] = v
		}
	}
	data, err := json.MarshalIndent(copied, "", " ")
	if err != nil {
		return "", err
	}
	return out, os.WriteFile(out, data, 0o644)
}

func readTemplate(file string) (map[string]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var tpl map[string]any
	if err := json.Unmarshal(data, &tpl); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return tpl, nil
}

var subReference = regexp.MustCompile(`\$\{([A-Za-z0-9]+)[.}]`)

// references lists the logical IDs a resource definition names.
func references(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "Ref":
					if s, ok := e.(string); ok {
						out[s] = true
					}
				case "Fn::GetAtt":
					switch a := e.(type) {
					case []any:
						if len(a) > 0 {
							out[fmt.Sprint(a[0])] = true
						}
					case string:
						out[strings.SplitN(a, ".", 2)[0]] = true
					}
				case "Fn::Sub":
					s, _ := e.(string)
					if a, ok := e.([]any); ok && len(a) > 0 {
						s, _ = a[0].(string)
					}
					for _, m := range subReference.FindAllStringSubmatch(s, -1) {
						out[m[1]] = true
					}
				case "DependsOn":
					switch d := e.(type) {
					case string:
						out[d] = true
					case []any:
						for _, x := range d {
							out[fmt.Sprint(x)] = true
						}
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// schemaType reports whether a type is a CloudFormation resource type, as
// opposed to a custom resource or CDK's metadata resource, which no rule checks.
func schemaType(typ string) bool {
	return strings.HasPrefix(typ, "AWS::") && typ != "AWS::CDK::Metadata" && typ != "AWS::CloudFormation::CustomResource"
}

// environment is the stack's account and region, where they are known.
func environment(stack awscdk.Stack) *awscdk.Environment {
	env := &awscdk.Environment{}
	if !*awscdk.Token_IsUnresolved(stack.Account()) {
		env.Account = stack.Account()
	}
	if !*awscdk.Token_IsUnresolved(stack.Region()) {
		env.Region = stack.Region()
	}
	return env
}

// messages lists the annotations on a construct, first line only.
func messages(c constructs.IConstruct) []Message {
	var out []Message
	for _, m := range *c.Node().Metadata() {
		level := *m.Type
		switch level {
		case "aws:cdk:error", "aws:cdk:warning", "aws:cdk:info":
		default:
			continue
		}
		text := fmt.Sprint(m.Data)
		if i := strings.Index(text, "\n"); i >= 0 {
			text = text[:i]
		}
		out = append(out, Message{Level: level, Text: text})
	}
	return out
}
