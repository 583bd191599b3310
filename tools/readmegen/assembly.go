package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// stack is one stack of a cloud assembly, with its template's resources.
type stack struct {
	name      string // the stack's display name: Staging, or Stage/Staging in a stage
	account   string // "" when the stack is account-agnostic
	region    string // "" when the stack is region-agnostic
	resources map[string]resource
}

// resource is what readmegen reads of a template's resource.
type resource struct {
	Metadata struct {
		Path string `json:"aws:cdk:path"`
		Nag  *struct {
			Rules []nagRule `json:"rules_to_suppress"`
		} `json:"cdk_nag"`
	} `json:"Metadata"`
}

// nagRule is one cdk-nag suppression, as NagSuppressions writes it.
type nagRule struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	// AppliesTo holds findings ("Resource::*") or {"regex": "..."} objects.
	AppliesTo []json.RawMessage `json:"applies_to"`
}

// path is the resource's construct path inside its stack, without CDK's
// "/Resource" leaf: Service/ExecutionRole/DefaultPolicy.
func (s stack) path(r resource) string {
	p := strings.TrimPrefix(r.Metadata.Path, s.name+"/")
	return strings.TrimSuffix(p, "/Resource")
}

// readAssembly reads the stacks of a cloud assembly in the manifest's order,
// which is the app's.
func readAssembly(dir string) ([]stack, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no %s; run make synth first", filepath.Join(dir, "manifest.json"))
	}
	if err != nil {
		return nil, err
	}
	var manifest struct {
		Artifacts json.RawMessage `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	type artifact struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		DisplayName string `json:"displayName"`
		Properties  struct {
			TemplateFile string `json:"templateFile"`
		} `json:"properties"`
	}
	var stacks []stack
	err = eachMember(manifest.Artifacts, func(id string, raw json.RawMessage) error {
		var a artifact
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("artifact %s: %w", id, err)
		}
		if a.Type != "aws:cloudformation:stack" {
			return nil
		}
		s := stack{name: a.DisplayName}
		if s.name == "" {
			s.name = id
		}
		// aws://<account>/<region>, with unknown-account and unknown-region
		// for an environment-agnostic stack.
		if acct, region, ok := strings.Cut(strings.TrimPrefix(a.Environment, "aws://"), "/"); ok {
			if acct != "unknown-account" {
				s.account = acct
			}
			if region != "unknown-region" {
				s.region = region
			}
		}
		tpl, err := os.ReadFile(filepath.Join(dir, a.Properties.TemplateFile))
		if err != nil {
			return err
		}
		var doc struct {
			Resources map[string]resource `json:"Resources"`
		}
		if err := json.Unmarshal(tpl, &doc); err != nil {
			return fmt.Errorf("%s: %w", a.Properties.TemplateFile, err)
		}
		s.resources = doc.Resources
		stacks = append(stacks, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	if len(stacks) == 0 {
		return nil, fmt.Errorf("%s/manifest.json lists no stack", dir)
	}
	return stacks, nil
}

// eachMember calls f for every member of a JSON object, in document order.
func eachMember(object json.RawMessage, f func(key string, value json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(object))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("artifacts is not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return err
		}
		if err := f(tok.(string), value); err != nil {
			return err
		}
	}
	return nil
}
