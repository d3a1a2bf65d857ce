/*
Copyright The mpijob-apiserver Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

type machineInfo struct {
	cpu      string
	cores    int
	memGiB   float64
	kernel   string
	goVer    string
	versions string
}

func (m machineInfo) String() string {
	return fmt.Sprintf("%s, %d cores, %.0f GiB RAM, Linux %s, %s; %s", m.cpu, m.cores, m.memGiB, m.kernel, m.goVer, m.versions)
}

// describeMachine reads what the report must name: the CPU, cores, memory,
// kernel, Go and the versions of the libraries both peers are built on.
func describeMachine() machineInfo {
	m := machineInfo{cpu: "unknown CPU", cores: runtime.NumCPU(), goVer: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.memGiB = kb / (1 << 20)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	var vs []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "k8s.io/apiserver", "k8s.io/apiextensions-apiserver", "go.etcd.io/etcd/server/v3":
				vs = append(vs, d.Path+" "+d.Version)
			}
		}
	}
	m.versions = strings.Join(vs, ", ")
	return m
}
