package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// fargateMemory lists, per Fargate task CPU (units), the memory sizes in MiB
// Fargate accepts with it (Amazon ECS developer guide, "Task CPU and
// memory", Linux platform version 1.4.0).
var fargateMemory = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, step int) []int {
	var out []int
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

// FargateCpus lists the task CPU sizes Fargate offers, smallest first.
func FargateCpus() []int {
	cpus := make([]int, 0, len(fargateMemory))
	for c := range fargateMemory {
		cpus = append(cpus, c)
	}
	sort.Ints(cpus)
	return cpus
}

// FargateMemory lists the memory sizes in MiB Fargate accepts with a task
// CPU, smallest first, and reports false for a CPU Fargate does not offer.
func FargateMemory(cpu int) ([]int, bool) {
	mem, ok := fargateMemory[cpu]
	return append([]int(nil), mem...), ok
}

// FargateAccepts reports whether Fargate runs a task of this size.
func FargateAccepts(cpu, memoryMiB int) bool {
	for _, m := range fargateMemory[cpu] {
		if m == memoryMiB {
			return true
		}
	}
	return false
}

// DescribeFargateCpus names the CPU sizes Fargate offers, for a message:
// "256, 512, ... or 16384".
func DescribeFargateCpus() string {
	cpus := FargateCpus()
	return joinInts(cpus[:len(cpus)-1]) + " or " + strconv.Itoa(cpus[len(cpus)-1])
}

// DescribeFargateMemory names the memory sizes Fargate accepts with a task
// CPU, for a message: "512, 1024, 2048" or "1024 to 4096 in steps of 1024";
// empty for a CPU Fargate does not offer.
func DescribeFargateMemory(cpu int) string {
	mem := fargateMemory[cpu]
	if len(mem) <= 3 {
		return joinInts(mem)
	}
	return fmt.Sprintf("%d to %d in steps of %d", mem[0], mem[len(mem)-1], mem[1]-mem[0])
}

func joinInts(list []int) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}
