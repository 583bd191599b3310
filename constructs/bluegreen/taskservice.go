package bluegreen

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"ecs-bluegreen/internal/nagsuppress"
)

// buildTaskDefinition creates the execution and task roles, the task
// definition with its one container, and the container log group.
func (s *service) buildTaskDefinition(r resolved, name func(string) *string) {
	this := s.Construct
	s.family = name("")
	ecsTasks := awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil)
	// Both roles have fixed names, so that a policy elsewhere (the image
	// repository's, the deploy roles' iam:PassRole) can name them without a
	// reference that goes stale, and CloudFormation cannot replace them
	// silently: it refuses to replace a resource with a custom name.
	executionRole := awsiam.NewRole(this, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		RoleName:    name("-execution"),
		AssumedBy:   ecsTasks,
		Description: jsii.String(fmt.Sprintf("%s: lets ECS pull the image and write container logs", r.prefix)),
	})
	// ecr:GetAuthorizationToken accepts only "*" (AWS service authorization
	// reference); the repository itself grants pulls to this role.
	executionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ecr:GetAuthorizationToken"),
		Resources: jsii.Strings("*"),
	}))
	s.executionRole = executionRole
	nagsuppress.Add(executionRole.Node().FindChild(jsii.String("DefaultPolicy")), nagsuppress.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "ecr:GetAuthorizationToken accepts only \"*\" (it has no resource type in the service authorization reference); pulls themselves are granted per repository",
		AppliesTo: []string{"Resource::*"},
	})
	// The task role's trust takes the confused-deputy conditions the ECS
	// developer guide shows for it ("Amazon ECS task IAM role"): this
	// account, and any ECS resource of it (a cluster-specific aws:SourceArn
	// is not supported). The guide documents no such condition for the task
	// execution role, which ECS itself assumes, so its trust is left alone.
	s.taskRole = awsiam.NewRole(this, jsii.String("TaskRole"), &awsiam.RoleProps{
		RoleName: name("-task"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(this).Account()},
				"ArnLike": map[string]any{"aws:SourceArn": awscdk.Stack_Of(this).FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("ecs"), Resource: jsii.String("*"), ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME,
				})},
			},
		}),
		Description: jsii.String(fmt.Sprintf("%s: the application's own AWS permissions", r.prefix)),
	})
	s.taskDef = awsecs.NewFargateTaskDefinition(this, jsii.String("TaskDefinition"), &awsecs.FargateTaskDefinitionProps{
		Family:         s.family,
		Cpu:            jsii.Number(r.cpu),
		MemoryLimitMiB: jsii.Number(r.memory),
		ExecutionRole:  s.executionRole,
		TaskRole:       s.taskRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	logGroup := awslogs.NewLogGroup(this, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/ecs/" + r.prefix),
		Retention:     r.retention,
		RemovalPolicy: r.removal,
		EncryptionKey: r.logKey,
	})
	container := s.taskDef.AddContainer(s.containerName, &awsecs.ContainerDefinitionOptions{
		ContainerName: s.containerName,
		Image:         s.containerImage(r),
		Essential:     jsii.Bool(true),
		// A hard limit equal to the task's memory: the only container may use
		// all of it, and never more.
		MemoryLimitMiB: jsii.Number(r.memory),
		Logging: awsecs.LogDrivers_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     logGroup,
			StreamPrefix: jsii.String(r.containerName),
		}),
		PortMappings: &[]*awsecs.PortMapping{{
			ContainerPort: jsii.Number(r.port),
			Protocol:      awsecs.Protocol_TCP,
		}},
	})
	s.configureContainer(container, r)
}

// containerImage is the image the container starts with: the placeholder
// under CodeDeploy (whose releases register revisions of their own), the
// image parameter under ECS.
func (s *service) containerImage(r resolved) awsecs.ContainerImage {
	if r.engine == EngineEcs {
		return s.ecsImage(r)
	}
	return awsecs.ContainerImage_FromRegistry(jsii.String(r.image), nil)
}

// buildService creates the tasks' security group and the Fargate service
// under the CODE_DEPLOY deployment controller, registered with the blue
// target group.
func (s *service) buildService(props *ServiceProps, r resolved, name func(string) *string) {
	this := s.Construct
	serviceSg := awsec2.NewSecurityGroup(this, jsii.String("ServiceSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String(fmt.Sprintf("%s tasks: container port from the load balancer only", r.prefix)),
		AllowAllOutbound: jsii.Bool(props.TaskEgress == nil),
	})
	if props.TaskEgress != nil {
		for _, e := range *props.TaskEgress {
			serviceSg.AddEgressRule(awsec2.Peer_Ipv4(e.Cidr), awsec2.Port_Tcp(e.Port), jsii.String(fmt.Sprintf("task egress to %s port %v", *e.Cidr, *e.Port)), nil)
		}
	}
	controller := awsecs.DeploymentControllerType_CODE_DEPLOY
	if r.engine == EngineEcs {
		controller = awsecs.DeploymentControllerType_ECS
	}
	serviceProps := &awsecs.FargateServiceProps{
		Cluster:              s.cluster,
		TaskDefinition:       s.taskDef,
		ServiceName:          name(""),
		DeploymentController: &awsecs.DeploymentController{Type: controller},
		SecurityGroups:       &[]awsec2.ISecurityGroup{serviceSg},
		VpcSubnets:           &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		AssignPublicIp:       jsii.Bool(false),
		// Grace period: ECS ignores load-balancer health checks this long after
		// a task starts, enough for the placeholder or a typical web app to
		// boot, short enough that a crash-looping task is replaced quickly.
		HealthCheckGracePeriod: awscdk.Duration_Seconds(jsii.Number(60)),
		MinHealthyPercent:      jsii.Number(100),
		MaxHealthyPercent:      jsii.Number(200),
		EnableECSManagedTags:   jsii.Bool(true),
		PropagateTags:          awsecs.PropagatedTagSource_SERVICE,
	}
	if r.engine == EngineEcs {
		ecsStrategy(r, serviceProps)
		// A release whose tasks never become healthy rolls back without
		// waiting for the alarms.
		serviceProps.CircuitBreaker = &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)}
	}
	s.svc = awsecs.NewFargateService(this, jsii.String("Service"), serviceProps)
	// Under ECS the alternate target group, the routes and the role that
	// rewrites them come with the registration (ecsAttach).
	if r.engine == EngineEcs {
		s.ecsAttach(r)
	} else {
		s.svc.AttachToApplicationTargetGroup(s.blue)
	}
	s.svc.Connections().AllowFrom(s.alb, awsec2.Port_Tcp(jsii.Number(r.port)), jsii.String("container port from the load balancer"))

	// Day-two safety: the service names its task definition by family, so
	// CloudFormation never has a reason to update it when the task definition
	// changes (CodeDeploy owns which revision runs after the first release).
	// CDK's service does this itself under the CODE_DEPLOY controller: it
	// sets TaskDefinition to the family and, without the reference, depends
	// on the task definition (aws-ecs base-service.js); the deployment group
	// refuses a service that names anything else (aws-codedeploy
	// ecs/deployment-group.js). Only ECS's service-linked role is added here.
	s.svc.Node().AddDependency(s.linkedRole)
}
