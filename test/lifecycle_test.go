package test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"ecs-bluegreen/constructs/delivery"
)

// The image repository's lifecycle policy, evaluated as Amazon ECR documents
// it (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html,
// lifecycle_policy_parameters.html): rules apply from the lowest rulePriority
// up; a rule selects images by tag status and tag prefixes (an image matches
// a tagPrefixList when every prefix matches one of its tags); imageCountMoreThan
// keeps the newest countNumber selected images by push time and expires the
// rest, sinceImagePushed expires selected images older than countNumber days;
// an image that matches the tagging requirements of a rule cannot be expired
// by a rule with a lower priority, which still counts it.

type lifecycleRule struct {
	RulePriority int    `json:"rulePriority"`
	Description  string `json:"description"`
	Selection    struct {
		TagStatus     string   `json:"tagStatus"`
		TagPrefixList []string `json:"tagPrefixList"`
		CountType     string   `json:"countType"`
		CountUnit     string   `json:"countUnit"`
		CountNumber   int      `json:"countNumber"`
	} `json:"selection"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

// repositoryImage is an image of the repository: its tags and when it was
// pushed (a tag added later by PutImage does not change it).
type repositoryImage struct {
	tags     []string
	pushedAt int // days since the first push
}

func (r lifecycleRule) selects(img repositoryImage) bool {
	switch r.Selection.TagStatus {
	case "untagged":
		return len(img.tags) == 0
	case "any":
		return true
	case "tagged":
		for _, prefix := range r.Selection.TagPrefixList {
			found := false
			for _, tag := range img.tags {
				found = found || strings.HasPrefix(tag, prefix)
			}
			if !found {
				return false
			}
		}
		return len(img.tags) > 0 && len(r.Selection.TagPrefixList) > 0
	}
	return false
}

// expire returns the indexes of the images the policy expires, on day today.
func expire(rules []lifecycleRule, images []repositoryImage, today int) map[int]bool {
	sort.Slice(rules, func(i, j int) bool { return rules[i].RulePriority < rules[j].RulePriority })
	expired := map[int]bool{}
	matchedHigher := map[int]bool{}
	for _, r := range rules {
		var selected []int
		for i, img := range images {
			if r.selects(img) {
				selected = append(selected, i)
			}
		}
		sort.SliceStable(selected, func(a, b int) bool { return images[selected[a]].pushedAt > images[selected[b]].pushedAt })
		for rank, i := range selected {
			old := false
			switch r.Selection.CountType {
			case "imageCountMoreThan":
				old = rank >= r.Selection.CountNumber
			case "sinceImagePushed":
				old = today-images[i].pushedAt > r.Selection.CountNumber
			}
			if old && r.Action.Type == "expire" && !matchedHigher[i] {
				expired[i] = true
			}
		}
		for _, i := range selected {
			matchedHigher[i] = true
		}
	}
	return expired
}

// repositoryLifecycleRules reads the lifecycle policy of the pipeline's
// image repository from its template.
func repositoryLifecycleRules(t *testing.T) []lifecycleRule {
	t.Helper()
	repos := resources(t, pipelineID, "AWS::ECR::Repository")
	if len(repos) != 1 {
		t.Fatalf("%d repositories in the pipeline stack, want 1", len(repos))
	}
	var text string
	for _, r := range repos {
		text, _ = dig(r, "Properties", "LifecyclePolicy", "LifecyclePolicyText").(string)
	}
	return parseLifecycleRules(t, text)
}

// parseLifecycleRules reads the rules of a lifecycle policy's text.
func parseLifecycleRules(t *testing.T, text string) []lifecycleRule {
	t.Helper()
	var policy struct{ Rules []lifecycleRule }
	if err := json.Unmarshal([]byte(text), &policy); err != nil {
		t.Fatalf("lifecycle policy %q: %v", text, err)
	}
	if len(policy.Rules) == 0 {
		t.Fatalf("the repository has no lifecycle rules")
	}
	return policy.Rules
}

// TestLifecycleKeepsWhatEnvironmentsRun proves that the repository's
// lifecycle policy never expires an image an environment runs or may roll
// back to, however many builds follow it: after a few releases to every
// environment, a burst of builds that reach staging but never production
// (each image carries the commit tag and, once its deploy stage rendered
// for it, "<environment>-<commit tag>"). It also proves that the policy
// does expire images, so that the check is not vacuous.
func TestLifecycleKeepsWhatEnvironmentsRun(t *testing.T) {
	rules := repositoryLifecycleRules(t)
	envs := releaseOrder()
	var images []repositoryImage
	push := func(day int, releasedTo int) {
		tag := fmt.Sprintf("%012x", len(images)+1)
		img := repositoryImage{tags: []string{tag}, pushedAt: day}
		for _, env := range envs[:releasedTo] {
			img.tags = append(img.tags, delivery.ImageTagPrefix(env.name)+tag)
		}
		images = append(images, img)
	}
	day := 0
	for ; day < 3; day++ {
		push(day, len(envs)) // released everywhere
	}
	for ; day < 3+120; day++ {
		push(day, 1) // staging only
	}
	expired := expire(rules, images, day)

	// What each environment runs, and what it may roll back to, are the two
	// newest images released to it.
	for _, env := range envs {
		var released []int
		for i, img := range images {
			for _, tag := range img.tags {
				if strings.HasPrefix(tag, delivery.ImageTagPrefix(env.name)) {
					released = append(released, i)
				}
			}
		}
		if len(released) < 2 {
			t.Fatalf("%s: the scenario released %d images to it", env.name, len(released))
		}
		for _, i := range released[len(released)-2:] {
			if expired[i] {
				t.Errorf("%s: the lifecycle policy expires image %v, which %s runs or may roll back to, after %d newer builds (rules %+v)",
					env.name, images[i].tags, env.name, len(images)-1-i, rules)
			}
		}
	}
	if len(expired) == 0 {
		t.Errorf("the lifecycle policy expires nothing of %d images; the repository would grow without bound", len(images))
	}
	t.Logf("%d of %d images expired", len(expired), len(images))
}
