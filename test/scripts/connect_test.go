package scripts

import (
	"strings"
	"testing"
)

// What the fixture assembly names, and what the stand-in account holds.
const (
	region     = "eu-west-1"
	stack      = "shop-qa-pipeline"
	pipeline   = "shop-qa"
	connection = "arn:aws:codeconnections:eu-west-1:123456789012:connection/6f0e3c52-1d4b-4a8e-9a57-2b1f0c9d8e71"
	// A connection made outside the app and given as connectionArn, with the
	// ARN prefix of connections made before the service's rename.
	externalConnection = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0b6f7c1e-3a2d-4e59-8f10-7d6c5b4a3928"
	repository         = "example-org/shop"
)

// definition is what `get-pipeline --query pipeline --output json` prints: the
// pipeline without the response's metadata (pipelineArn, created, updated).
const definition = `{
    "name": "shop-qa",
    "roleArn": "arn:aws:iam::123456789012:role/shop-qa-pipeline-DeliveryRole",
    "artifactStore": {
        "type": "S3",
        "location": "shop-qa-pipeline-deliveryartifactbucket-1x2y3z"
    },
    "stages": [
        {
            "name": "Source",
            "actions": [
                {
                    "name": "GitHub",
                    "actionTypeId": {
                        "category": "Source",
                        "owner": "AWS",
                        "provider": "CodeStarSourceConnection",
                        "version": "1"
                    },
                    "runOrder": 1,
                    "configuration": {
                        "BranchName": "main",
                        "ConnectionArn": "arn:aws:codeconnections:eu-west-1:123456789012:connection/6f0e3c52-1d4b-4a8e-9a57-2b1f0c9d8e71",
                        "FullRepositoryId": "example-org/shop"
                    },
                    "outputArtifacts": [
                        {
                            "name": "SourceOutput"
                        }
                    ],
                    "inputArtifacts": [],
                    "namespace": "SourceVariables"
                }
            ]
        }
    ],
    "version": 1,
    "executionMode": "SUPERSEDED",
    "pipelineType": "V2",
    "triggers": [
        {
            "providerType": "CodeStarSourceConnection",
            "gitConfiguration": {
                "sourceActionName": "GitHub",
                "push": [
                    {
                        "branches": {
                            "includes": [
                                "main"
                            ]
                        }
                    }
                ]
            }
        }
    ]
}
`

// reg is the --region argument the script passes, if any.
func reg(r string) []string {
	if r == "" {
		return nil
	}
	return []string{"--region", r}
}

func argv(parts ...[]string) []string {
	var a []string
	for _, p := range parts {
		a = append(a, p...)
	}
	return a
}

func describePipelineStack(r, name, answer string) call {
	return call{
		argv: argv([]string{"aws", "cloudformation", "describe-stacks"}, reg(r), []string{"--stack-name", name,
			"--query", "Stacks[0].[StackStatus, Outputs[?OutputKey=='PipelineName'].OutputValue | [0]]", "--output", "text"}),
		stdout: answer,
	}
}

func getTrigger(r, answer string) call {
	return call{
		argv: argv([]string{"aws", "codepipeline", "get-pipeline"}, reg(r), []string{"--name", pipeline,
			"--query", "pipeline.triggers[?providerType=='CodeStarSourceConnection'].gitConfiguration.sourceActionName", "--output", "text"}),
		stdout: answer,
	}
}

func getSource(r, conn string) call {
	return call{
		argv: argv([]string{"aws", "codepipeline", "get-pipeline"}, reg(r), []string{"--name", pipeline,
			"--query", "pipeline.stages[].actions[?name=='GitHub'][].configuration.[ConnectionArn, FullRepositoryId, BranchName]", "--output", "text"}),
		stdout: conn + "\t" + repository + "\tmain\n",
	}
}

func getConnection(conn, name, status string) call {
	return call{
		argv: []string{"aws", "codeconnections", "get-connection", "--region", region, "--connection-arn", conn,
			"--query", "Connection.[ConnectionStatus, ConnectionName]", "--output", "text"},
		stdout: status + "\t" + name + "\n",
	}
}

func sleep(seconds string) call { return call{argv: []string{"sleep", seconds}} }

// resave is the three calls that save the pipeline again and read it back.
func resave(r, version, triggers string) []call {
	return []call{
		{
			argv:   argv([]string{"aws", "codepipeline", "get-pipeline"}, reg(r), []string{"--name", pipeline, "--query", "pipeline", "--output", "json"}),
			stdout: definition,
		},
		{
			// The definition exactly as read, passed inline: no temporary file,
			// no metadata, nothing edited.
			argv: argv([]string{"aws", "codepipeline", "update-pipeline"}, reg(r), []string{
				"--pipeline", strings.TrimRight(definition, "\n"), "--query", "pipeline.version", "--output", "text"}),
			stdout: version + "\n",
		},
		{
			argv: argv([]string{"aws", "codepipeline", "get-pipeline"}, reg(r), []string{"--name", pipeline,
				"--query", "[pipeline.version, length(pipeline.triggers[?providerType=='CodeStarSourceConnection' && gitConfiguration.sourceActionName=='GitHub'] || `[]`)]",
				"--output", "text"}),
			stdout: version + "\t" + triggers + "\n",
		},
	}
}

func calls(parts ...any) []call {
	var cs []call
	for _, p := range parts {
		switch p := p.(type) {
		case call:
			cs = append(cs, p)
		case []call:
			cs = append(cs, p...)
		default:
			panic(p)
		}
	}
	return cs
}

// The lines that tell the operator where to approve the connection.
var approvalLines = []string{
	"connect: connection shop-qa is PENDING: approve it once (the one manual step):",
	"connect:   AWS console > Developer Tools > Settings > Connections > shop-qa > Update pending connection",
	"connect:   (https://console.aws.amazon.com/codesuite/settings/connections?region=eu-west-1)",
	"connect:   then install or choose the AWS Connector for GitHub app with access to example-org/shop, and choose Connect.",
}

const cdkJSON = `{"app": "go run .", "context": {"project": "shop", "environmentSuffix": "pr7", "githubBranch": "main"}}`

func TestConnect(t *testing.T) {
	deployed := describePipelineStack(region, stack, "CREATE_COMPLETE\tshop-qa\n")
	noStack := describePipelineStack(region, stack, "")
	noStack.stderr, noStack.code = awsError("ValidationError", "DescribeStacks", "Stack with id shop-qa-pipeline does not exist")

	cases := []struct {
		name     string
		env      []string
		cdkJSON  string
		noCdkOut bool
		want     []call
		code     int
		stdout   []string
		stderr   []string
		// notOut are texts no line of standard output may contain.
		notOut []string
	}{
		{
			name: "PENDING twice, then AVAILABLE: waits, then saves the pipeline again",
			env:  []string{"CONNECT_INTERVAL=5", "CONNECT_TIMEOUT=60"},
			want: calls(deployed, getTrigger(region, "GitHub\n"), getSource(region, connection),
				getConnection(connection, "shop-qa", "PENDING"), sleep("5"),
				getConnection(connection, "shop-qa", "PENDING"), sleep("5"),
				getConnection(connection, "shop-qa", "AVAILABLE"),
				resave(region, "2", "1")),
			stdout: append(append([]string{
				"connect: pipeline stack shop-qa-pipeline in eu-west-1 (from cdk.out/manifest.json)",
				"connect: pipeline shop-qa: push trigger on source action GitHub (example-org/shop, branch main)",
				"connect: connection " + connection,
			}, approvalLines...),
				"connect: waiting for the approval (0 of 60 s; checking every 5 s)",
				"connect: waiting for the approval (5 of 60 s; checking every 5 s)",
				"connect: connection shop-qa is AVAILABLE",
				"connect: pipeline shop-qa saved again (version 2) with its push trigger on GitHub: pushes to main start a release.",
				"connect: to release the branch's latest commit now: aws codepipeline start-pipeline-execution --region eu-west-1 --name shop-qa",
			),
		},
		{
			name: "ERROR: fails and saves nothing",
			want: calls(deployed, getTrigger(region, "GitHub\n"), getSource(region, connection),
				getConnection(connection, "shop-qa", "ERROR")),
			code: 1,
			stderr: []string{
				"connect: connection shop-qa is in ERROR: it cannot be used until it is AVAILABLE again; nothing was changed.",
				"connect: open it in the console (https://console.aws.amazon.com/codesuite/settings/connections?region=eu-west-1) to see why; the GitHub app installation it uses may have been removed, suspended or denied access to example-org/shop.",
				"connect: fix it there (Update pending connection, or choose another installation), then run make connect again",
			},
			notOut: []string{"saved again"},
		},
		{
			name: "still PENDING at the timeout: fails and saves nothing",
			env:  []string{"CONNECT_INTERVAL=5", "CONNECT_TIMEOUT=10"},
			want: calls(deployed, getTrigger(region, "GitHub\n"), getSource(region, connection),
				getConnection(connection, "shop-qa", "PENDING"), sleep("5"),
				getConnection(connection, "shop-qa", "PENDING"), sleep("5"),
				getConnection(connection, "shop-qa", "PENDING")),
			code:   1,
			stdout: approvalLines,
			stderr: []string{
				"connect: connection shop-qa is still PENDING after 10 s; nothing was changed.",
				"connect: approve it as above, then run make connect again (CONNECT_TIMEOUT=<seconds> waits longer)",
			},
			notOut: []string{"saved again"},
		},
		{
			name: "CONNECT_TIMEOUT=0 checks once and does not wait",
			env:  []string{"CONNECT_TIMEOUT=0"},
			want: calls(deployed, getTrigger(region, "GitHub\n"), getSource(region, connection),
				getConnection(connection, "shop-qa", "PENDING")),
			code:   1,
			stderr: []string{"connect: connection shop-qa is still PENDING after 0 s; nothing was changed."},
		},
		{
			name: "connection configured outside the app (connectionArn): read from the source action",
			want: calls(describePipelineStack(region, stack, "UPDATE_COMPLETE\tshop-qa\n"),
				getTrigger(region, "GitHub\n"), getSource(region, externalConnection),
				getConnection(externalConnection, "org-github", "AVAILABLE"),
				resave(region, "7", "1")),
			stdout: []string{
				"connect: connection " + externalConnection,
				"connect: connection org-github is AVAILABLE already",
				"connect: pipeline shop-qa saved again (version 7) with its push trigger on GitHub: pushes to main start a release.",
			},
			notOut: []string{"PENDING", "waiting"},
		},
		{
			name:    "no cdk.out: the stack name comes from cdk.json, the region from the aws CLI",
			cdkJSON: cdkJSON, noCdkOut: true,
			want: calls(describePipelineStack("", "shop-pr7-pipeline", "CREATE_COMPLETE\tshop-qa\n"),
				getTrigger("", "GitHub\n"), getSource("", connection),
				getConnection(connection, "shop-qa", "AVAILABLE"),
				resave("", "2", "1")),
			stdout: []string{
				"connect: pipeline stack shop-pr7-pipeline (from cdk.json)",
				"connect: to release the branch's latest commit now: aws codepipeline start-pipeline-execution --name shop-qa",
			},
		},
		{
			name: "PIPELINE_STACK names another copy",
			env:  []string{"PIPELINE_STACK=shop-v2-pipeline"},
			want: calls(call{
				argv: []string{"aws", "cloudformation", "describe-stacks", "--stack-name", "shop-v2-pipeline",
					"--query", "Stacks[0].[StackStatus, Outputs[?OutputKey=='PipelineName'].OutputValue | [0]]", "--output", "text"},
				stderr: "\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id shop-v2-pipeline does not exist\n",
				code:   254,
			}),
			code:   1,
			stdout: []string{"connect: pipeline stack shop-v2-pipeline (from PIPELINE_STACK)"},
			stderr: []string{"connect: stack shop-v2-pipeline does not exist: deploy first (make deploy), or set PIPELINE_STACK"},
		},
		{
			name:   "the stack is not deployed",
			want:   calls(noStack),
			code:   1,
			stderr: []string{"connect: stack shop-qa-pipeline does not exist in eu-west-1: deploy first (make deploy), or set PIPELINE_STACK"},
		},
		{
			name:   "the stack is still being created",
			want:   calls(describePipelineStack(region, stack, "CREATE_IN_PROGRESS\tNone\n")),
			code:   1,
			stderr: []string{"connect: stack shop-qa-pipeline (CREATE_IN_PROGRESS) has no PipelineName output: wait for its deploy to finish (make deploy)"},
		},
		{
			name:   "the pipeline has no trigger on a connection",
			want:   calls(deployed, getTrigger(region, "None\n")),
			code:   1,
			stderr: []string{"connect: pipeline shop-qa has no push trigger on a connection: nothing to register"},
		},
		{
			name: "the saved definition lost its trigger",
			want: calls(deployed, getTrigger(region, "GitHub\n"), getSource(region, connection),
				getConnection(connection, "shop-qa", "AVAILABLE"),
				resave(region, "3", "0")),
			code: 1,
			stderr: []string{
				"connect: pipeline shop-qa was saved (version 3) but its definition has no push trigger on GitHub any more;",
				"connect: redeploy the pipeline stack (make deploy) and run make connect again",
			},
		},
		{
			name:   "CONNECT_INTERVAL=0 is refused before any call",
			env:    []string{"CONNECT_INTERVAL=0"},
			code:   2,
			stderr: []string{`connect: CONNECT_INTERVAL must be a whole number of seconds above 0, got "0"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := projectDir(t, c.cdkJSON, !c.noCdkOut)
			r := runScript(t, "connect.sh", dir, c.env, "", c.want)
			requireCalls(t, r, c.want)
			requireExit(t, r, c.code)
			requireLines(t, "stdout", r.stdout, c.stdout...)
			requireLines(t, "stderr", r.stderr, c.stderr...)
			for _, s := range c.notOut {
				requireNoLineContaining(t, "stdout", r.stdout, s)
			}
		})
	}
}

// TestConnectTwice runs make connect a second time after a first success: it
// does not wait, saves the same definition again and succeeds again.
func TestConnectTwice(t *testing.T) {
	dir := projectDir(t, "", true)
	for i, version := range []string{"2", "3"} {
		want := calls(describePipelineStack(region, stack, "UPDATE_COMPLETE\tshop-qa\n"),
			getTrigger(region, "GitHub\n"), getSource(region, connection),
			getConnection(connection, "shop-qa", "AVAILABLE"),
			resave(region, version, "1"))
		r := runScript(t, "connect.sh", dir, nil, "", want)
		requireCalls(t, r, want)
		requireExit(t, r, 0)
		requireLines(t, "stdout", r.stdout,
			"connect: connection shop-qa is AVAILABLE already",
			"connect: pipeline shop-qa saved again (version "+version+") with its push trigger on GitHub: pushes to main start a release.")
		if i == 1 {
			requireNoLineContaining(t, "stdout", r.stdout, "PENDING")
		}
	}
}
