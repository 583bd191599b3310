package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"ecs-bluegreen/internal/provider"
	"ecs-bluegreen/stacks"
	"ecs-bluegreen/test/testapp"
)

// commonTags are the tags DESIGN.md puts on every taggable resource.
var commonTags = []string{"Project", "Environment", "ManagedBy", "CostCenter", "EnvironmentSuffix"}

// TestEveryTaggableResourceHasTheCommonTags reads every resource of every
// template. A resource whose type is taggable in the schema cfn-lint
// validates against must carry the common tags in its tag property, however
// CDK wrote it (as an L1, or as a plain CfnResource that Tags_Of skips). A
// resource of a type that schema cannot tag must carry none, or cfn-lint
// fails on it: such a type belongs in stacks.UntaggedResourceTypes.
func TestEveryTaggableResourceHasTheCommonTags(t *testing.T) {
	schema := lintSchema(t)
	checked, plain := 0, 0
	types := map[string]bool{}
	for _, id := range app.StackIDs() {
		plainIDs := plainLogicalIDs(app.Stack(id))
		for logical, r := range allResources(t, id) {
			typ := fmt.Sprint(dig(r, "Type"))
			if untyped(typ) {
				continue
			}
			tagging, err := schema.tagging(typ)
			if err != nil {
				t.Errorf("%s: %s: %v", id, logical, err)
				continue
			}
			tags := dig(r, "Properties", tagging.property)
			if !tagging.taggable {
				if tags != nil {
					t.Errorf("%s: %s (%s) has tags, which cfn-lint's schema does not allow on the type; add it to stacks.UntaggedResourceTypes", id, logical, typ)
				}
				continue
			}
			checked++
			types[typ] = true
			if plainIDs[logical] {
				plain++
			}
			got := tagKeys(tags)
			for _, key := range commonTags {
				if !got[key] {
					t.Errorf("%s: %s (%s) has no %s tag", id, logical, typ, key)
				}
			}
		}
	}
	if checked < 20 || plain == 0 {
		t.Fatalf("only %d taggable resources checked (%d written as plain CfnResource); the walk is broken", checked, plain)
	}
	record("tags: %d resources of %d taggable types checked for %s, %d of them plain CfnResource\n", checked, len(types), strings.Join(commonTags, ", "), plain)
}

// TestUntaggedResourceTypesStillNeedTheException keeps
// stacks.UntaggedResourceTypes true: each type is one that CDK would tag
// here (an L1 of the app is taggable) and that cfn-lint's schema still cannot
// tag. Once the schema catches up, the exception must go.
func TestUntaggedResourceTypesStillNeedTheException(t *testing.T) {
	schema := lintSchema(t)
	taggableByCDK := map[string]bool{}
	// The app as cdk.json has it, and with both environments on ecs (listener
	// rules exist only there).
	for _, a := range []*testapp.App{app, ecsApp(t, "ecs").app} {
		for _, id := range a.StackIDs() {
			for _, c := range *a.Stack(id).Node().FindAll(constructs.ConstructOrder_PREORDER) {
				if isCfnResource(c) && (*awscdk.TagManager_IsTaggable(c) || *awscdk.TagManager_IsTaggableV2(c)) {
					taggableByCDK[*c.(awscdk.CfnResource).CfnResourceType()] = true
				}
			}
		}
	}
	for _, typ := range stacks.UntaggedResourceTypes {
		tagging, err := schema.tagging(typ)
		switch {
		case err != nil:
			t.Errorf("%s: %v", typ, err)
		case tagging.taggable:
			t.Errorf("cfn-lint's schema now accepts tags on %s; remove it from stacks.UntaggedResourceTypes", typ)
		case !taggableByCDK[typ]:
			t.Errorf("no resource of type %s that CDK would tag; remove it from stacks.UntaggedResourceTypes", typ)
		}
	}
}

// untyped reports whether a resource type has no CloudFormation schema:
// custom resources and CDK's metadata resource. Neither takes tags.
func untyped(typ string) bool {
	return strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource" || typ == "AWS::CDK::Metadata"
}

// plainLogicalIDs lists the logical IDs of a stack's resources that CDK
// wrote as plain CfnResource objects (see provider.Plain).
func plainLogicalIDs(stack awscdk.Stack) map[string]bool {
	out := map[string]bool{}
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if res, ok := provider.Plain(c); ok {
			out[fmt.Sprint(stack.Resolve(res.LogicalId()))] = true
		}
	}
	return out
}

func isCfnResource(c constructs.IConstruct) bool {
	is := awscdk.CfnResource_IsCfnResource(c)
	return is != nil && *is
}

// tagKeys reads tags in either CloudFormation shape: a list of Key/Value or a map.
func tagKeys(tags any) map[string]bool {
	keys := map[string]bool{}
	switch v := tags.(type) {
	case []any:
		for _, tag := range v {
			keys[fmt.Sprint(dig(tag, "Key"))] = true
		}
	case map[string]any:
		for k := range v {
			keys[k] = true
		}
	}
	return keys
}

// lintRegion is the region whose schema cfn-lint validates the templates
// against: its default, since .cfnlintrc names no regions (checked below).
const lintRegion = "us_east_1"

// cfnLintSchema reads resource schemas from the cfn-lint installation that
// `make lint` runs: the provider schemas it ships (data/schemas/providers/
// <region>.py maps each type to a schema file in data/schemas/resources/).
type cfnLintSchema struct {
	dir   string
	files map[string]string // resource type -> schema file name
}

// tagging is what a resource schema says about tags.
type tagging struct {
	taggable bool
	property string // the tag property, such as Tags
}

var (
	schemaOnce sync.Once
	schemaErr  error
	schema     *cfnLintSchema
)

// lintSchema locates cfn-lint's schemas once per test process, failing the
// test if cfn-lint is missing or is not the version `make tools` pins.
func lintSchema(t *testing.T) *cfnLintSchema {
	t.Helper()
	schemaOnce.Do(func() { schema, schemaErr = loadLintSchema() })
	if schemaErr != nil {
		t.Fatalf("cfn-lint's resource schemas: %v (run make tools)", schemaErr)
	}
	return schema
}

func loadLintSchema() (*cfnLintSchema, error) {
	root := testapp.RepoRoot()
	rc, err := os.ReadFile(filepath.Join(root, ".cfnlintrc"))
	if err != nil {
		return nil, err
	}
	if regexp.MustCompile(`(?m)^regions\s*:`).Match(rc) {
		return nil, fmt.Errorf(".cfnlintrc sets regions; read their schemas, not only %s", lintRegion)
	}
	// find_spec locates the package without importing it (cfn-lint's import takes seconds).
	out, err := exec.Command("python3", "-c", "import importlib.util as u; s = u.find_spec('cfnlint'); print(s.submodule_search_locations[0] if s else '')").Output()
	if err != nil {
		return nil, fmt.Errorf("python3: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return nil, fmt.Errorf("python3 has no cfnlint package")
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	pinned := regexp.MustCompile(`(?m)^CFN_LINT_VERSION\s*:?=\s*(\S+)`).FindSubmatch(makefile)
	version, err := os.ReadFile(filepath.Join(dir, "version.py"))
	if err != nil {
		return nil, err
	}
	installed := regexp.MustCompile(`__version__\s*=\s*"([^"]+)"`).FindSubmatch(version)
	if pinned == nil || installed == nil || string(pinned[1]) != string(installed[1]) {
		return nil, fmt.Errorf("python3's cfn-lint in %s is %q; the Makefile pins %q", dir, installed, pinned)
	}
	index, err := os.ReadFile(filepath.Join(dir, "data", "schemas", "providers", lintRegion+".py"))
	if err != nil {
		return nil, err
	}
	s := &cfnLintSchema{dir: dir, files: map[string]string{}}
	for _, m := range regexp.MustCompile(`"([A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+)":\s*"([0-9a-f]+)"`).FindAllStringSubmatch(string(index), -1) {
		s.files[m[1]] = m[2] + ".json"
	}
	if len(s.files) < 500 {
		return nil, fmt.Errorf("%s lists %d resource types; cfn-lint's schema layout has changed", filepath.Join(dir, "data", "schemas", "providers", lintRegion+".py"), len(s.files))
	}
	return s, nil
}

// tagging reads a type's tagging from its schema. A schema with a tagging
// section says whether the type is taggable and names the tag property
// (Tags unless it says otherwise); one without (older types such as
// AWS::CodeBuild::Project) is taggable if it has a Tags property. Either
// way, cfn-lint rejects tags on a type whose schema lacks the property.
func (s *cfnLintSchema) tagging(typ string) (tagging, error) {
	file, ok := s.files[typ]
	if !ok {
		return tagging{}, fmt.Errorf("cfn-lint has no schema for %s in %s", typ, lintRegion)
	}
	data, err := os.ReadFile(filepath.Join(s.dir, "data", "schemas", "resources", file))
	if err != nil {
		return tagging{}, err
	}
	var doc struct {
		Tagging *struct {
			Taggable    *bool  `json:"taggable"`
			TagProperty string `json:"tagProperty"`
		} `json:"tagging"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return tagging{}, fmt.Errorf("schema of %s: %v", typ, err)
	}
	out := tagging{taggable: true, property: "Tags"}
	if doc.Tagging != nil {
		if doc.Tagging.Taggable != nil {
			out.taggable = *doc.Tagging.Taggable
		}
		if p := doc.Tagging.TagProperty; p != "" {
			out.property = strings.TrimPrefix(p, "/properties/")
		}
	}
	if _, has := doc.Properties[out.property]; !has {
		out.taggable = false
	}
	return out, nil
}
