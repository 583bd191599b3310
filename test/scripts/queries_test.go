package scripts

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// The stand-in answers are what the aws CLI prints after applying a script's
// --query to the API's response. This test holds them to that: it applies each
// query, exactly as the script passes it, to a whole API response (with the
// fields the query must skip, such as get-pipeline's metadata) with the CLI's
// own JMESPath library and text formatter, and compares the result with the
// stand-in's answer. It needs python3 with the awscli package (the aws CLI v1
// installs both) and is skipped without them.
const applyQuery = `
import io, json, sys
import jmespath
from awscli import text
outputs = []
for req in json.load(sys.stdin):
    result = jmespath.search(req["query"], req["response"])
    if req["output"] == "json":
        outputs.append(json.dumps(result, indent=4, ensure_ascii=False) + "\n")
    else:
        out = io.StringIO()
        text.format_text(result, out)
        outputs.append(out.getvalue())
json.dump(outputs, sys.stdout)
`

// getPipelineResponse is a whole GetPipeline response: the definition and
// the metadata that update-pipeline does not accept.
var getPipelineResponse = `{"pipeline": ` + definition + `, "metadata": {
	"pipelineArn": "arn:aws:codepipeline:eu-west-1:123456789012:shop-qa",
	"created": "2025-03-01T10:00:00+00:00", "updated": "2025-03-01T10:00:00+00:00"}}`

func TestQueriesGiveTheStandInAnswers(t *testing.T) {
	if err := exec.Command("python3", "-c", "import jmespath, awscli.text").Run(); err != nil {
		t.Skip("python3 with the awscli package is not installed:", err)
	}
	updated := strings.Replace(definition, `"version": 1,`, `"version": 2,`, 1)
	cases := []struct {
		name     string
		call     call
		response string
	}{
		{"describe-stacks: status and PipelineName", describePipelineStack(region, stack, "CREATE_COMPLETE\tshop-qa\n"), `{"Stacks": [{
			"StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-qa-pipeline/1", "StackName": "shop-qa-pipeline",
			"StackStatus": "CREATE_COMPLETE", "Outputs": [
				{"OutputKey": "DeliveryConnectionArnC260EC45", "OutputValue": "` + connection + `"},
				{"OutputKey": "PipelineName", "OutputValue": "shop-qa", "Description": "Name of the release pipeline"},
				{"OutputKey": "RepositoryUri", "OutputValue": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop-qa"}]}]}`},
		{"describe-stacks: no outputs yet", describePipelineStack(region, stack, "CREATE_IN_PROGRESS\tNone\n"),
			`{"Stacks": [{"StackName": "shop-qa-pipeline", "StackStatus": "CREATE_IN_PROGRESS"}]}`},
		{"get-pipeline: the trigger's source action", getTrigger(region, "GitHub\n"), getPipelineResponse},
		{"get-pipeline: no trigger", getTrigger(region, "None\n"), `{"pipeline": {"name": "shop-qa", "version": 1, "stages": []}}`},
		{"get-pipeline: the source action's connection", getSource(region, connection), getPipelineResponse},
		{"get-pipeline: the definition without metadata", resave(region, "2", "1")[0], getPipelineResponse},
		{"update-pipeline: the new version", resave(region, "2", "1")[1], `{"pipeline": ` + updated + `}`},
		{"get-pipeline: version and trigger read back", resave(region, "2", "1")[2], `{"pipeline": ` + updated + `, "metadata": {}}`},
		{"get-pipeline: trigger gone", resave(region, "3", "0")[2], `{"pipeline": {"name": "shop-qa", "version": 3}, "metadata": {}}`},
		{"get-connection", getConnection(connection, "shop-qa", "PENDING"), `{"Connection": {
			"ConnectionName": "shop-qa", "ConnectionArn": "` + connection + `", "ProviderType": "GitHub",
			"OwnerAccountId": "example-org", "ConnectionStatus": "PENDING"}}`},
		{"describe-stacks: status", stackStatus("Production", "UPDATE_COMPLETE"),
			`{"Stacks": [{"StackName": "shop-qa-production", "StackStatus": "UPDATE_COMPLETE", "Outputs": []}]}`},
		{"describe-load-balancers", loadBalancer("Production", true), `{"LoadBalancers": [{
			"LoadBalancerArn": "` + arnOf["Production"] + `", "DNSName": "shop-prd-qa-1.eu-west-1.elb.amazonaws.com",
			"LoadBalancerName": "shop-prd-qa", "Scheme": "internet-facing", "Type": "application"}]}`},
		{"describe-load-balancer-attributes", protection("Production", "true"), `{"Attributes": [
			{"Key": "access_logs.s3.enabled", "Value": "true"},
			{"Key": "deletion_protection.enabled", "Value": "true"},
			{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]}`},
		{"modify-load-balancer-attributes", unprotect("Production"), `{"Attributes": [
			{"Key": "deletion_protection.enabled", "Value": "false"},
			{"Key": "access_logs.s3.enabled", "Value": "true"}]}`},
		{"list-stack-resources", resources("Pipeline"), `{"StackResourceSummaries": [
			{"LogicalResourceId": "DeliveryKey9B966447", "PhysicalResourceId": "3c9a1f2e-7b6d-4e5f-8a9b-0c1d2e3f4a5b", "ResourceType": "AWS::KMS::Key", "ResourceStatus": "CREATE_COMPLETE"},
			{"LogicalResourceId": "DeliveryArtifactBucket4CF61278", "PhysicalResourceId": "shop-qa-pipeline-deliveryartifactbucket-1x2y3z", "ResourceType": "AWS::S3::Bucket", "ResourceStatus": "CREATE_COMPLETE"},
			{"LogicalResourceId": "DeliveryRepository526789E8", "PhysicalResourceId": "shop-qa", "ResourceType": "AWS::ECR::Repository", "ResourceStatus": "CREATE_COMPLETE"},
			{"LogicalResourceId": "DeliveryPipelineE8584D71", "PhysicalResourceId": "shop-qa", "ResourceType": "AWS::CodePipeline::Pipeline", "ResourceStatus": "UPDATE_COMPLETE"}]}`},
	}
	// One python3 for every case: it starts slowly.
	var reqs []map[string]any
	for _, c := range cases {
		query, output := option(c.call.argv, "--query"), option(c.call.argv, "--output")
		if query == "" || output == "" {
			t.Fatalf("%s: the call has no --query or --output: %s", c.name, show(c.call.argv))
		}
		var response any
		if err := json.Unmarshal([]byte(c.response), &response); err != nil {
			t.Fatalf("%s: response: %v", c.name, err)
		}
		reqs = append(reqs, map[string]any{"query": query, "response": response, "output": output})
	}
	in, _ := json.Marshal(reqs)
	cmd := exec.Command("python3", "-c", applyQuery)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var outputs []string
	if err := json.Unmarshal(out, &outputs); err != nil || len(outputs) != len(cases) {
		t.Fatalf("python3 printed %q (%v)", out, err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			query, got := reqs[i]["query"], outputs[i]
			if reqs[i]["output"] == "json" {
				// Key order is the service's; compare values.
				var a, b any
				if json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(c.call.stdout), &b) != nil || !equalJSON(a, b) {
					t.Fatalf("query %s gives\n%s\nthe stand-in answers\n%s", query, got, c.call.stdout)
				}
				return
			}
			if got != c.call.stdout {
				t.Fatalf("query %s gives %q, the stand-in answers %q", query, got, c.call.stdout)
			}
		})
	}
}

// option returns the value that follows name in argv.
func option(argv []string, name string) string {
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == name {
			return argv[i+1]
		}
	}
	return ""
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
