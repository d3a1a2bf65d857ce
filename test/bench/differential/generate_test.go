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

package differential

import (
	"fmt"
	"math/rand/v2"
)

// canonical quantities, in ascending order: resource.Quantity prints each
// as written.
var (
	cpus     = []string{"100m", "500m", "1", "2", "16"}
	memories = []string{"128Mi", "512Mi", "1Gi", "4Gi", "64Gi"}
	gpus     = []string{"1", "2", "8"}
)

// generator makes MPIJobs valid under both the v0.7.0 controller's rules
// and the CRD schema, each optional field present or not at random.
type generator struct{ r *rand.Rand }

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *generator) maybe() bool { return g.r.IntN(2) == 0 }

func (g *generator) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *generator) job(name string) map[string]any {
	spec := map[string]any{}
	if g.maybe() {
		spec["slotsPerWorker"] = g.r.IntN(9)
	}
	if g.maybe() {
		spec["runLauncherAsWorker"] = g.maybe()
	}
	if g.maybe() {
		spec["runPolicy"] = g.runPolicy()
	}
	if g.maybe() {
		spec["sshAuthMountPath"] = g.pick("/root/.ssh", "/home/mpiuser/.ssh")
	}
	if g.maybe() {
		spec["launcherCreationPolicy"] = g.pick("AtStartup", "WaitForWorkersReady")
	}
	if g.maybe() {
		spec["mpiImplementation"] = g.pick("OpenMPI", "Intel", "MPICH")
	}
	spec["mpiReplicaSpecs"] = map[string]any{
		"Launcher": g.replicaSpec(1),
		"Worker":   g.replicaSpec(1 + g.r.IntN(16)),
	}
	md := map[string]any{"name": name}
	if g.maybe() {
		md["labels"] = map[string]any{"team": g.pick("a", "b"), "fuzz": "true"}
	}
	if g.maybe() {
		md["annotations"] = map[string]any{"example.com/note": g.pick("", "x", "a longer note")}
	}
	return map[string]any{"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "metadata": md, "spec": spec}
}

func (g *generator) runPolicy() map[string]any {
	rp := map[string]any{}
	if g.maybe() {
		rp["cleanPodPolicy"] = g.pick("All", "Running", "None")
	}
	if g.maybe() {
		rp["ttlSecondsAfterFinished"] = g.r.IntN(100000)
	}
	if g.maybe() {
		rp["activeDeadlineSeconds"] = g.r.Int64N(1 << 40)
	}
	if g.maybe() {
		rp["backoffLimit"] = g.r.IntN(10)
	}
	if g.maybe() {
		rp["suspend"] = g.maybe()
	}
	if g.maybe() {
		rp["managedBy"] = g.pick("kubeflow.org/mpi-operator", "kueue.x-k8s.io/multikueue")
	}
	if g.maybe() {
		sp := map[string]any{}
		if g.maybe() {
			sp["minAvailable"] = g.r.IntN(17)
		}
		if g.maybe() {
			sp["queue"] = g.pick("default", "research")
		}
		if g.maybe() {
			mr := map[string]any{"cpu": g.pick(cpus...)}
			if g.maybe() {
				mr["memory"] = g.pick(memories...)
			}
			if g.maybe() {
				mr["nvidia.com/gpu"] = g.pick(gpus...)
			}
			sp["minResources"] = mr
		}
		if g.maybe() {
			sp["priorityClass"] = g.pick("high", "low")
		}
		if g.maybe() {
			sp["scheduleTimeoutSeconds"] = g.r.IntN(3600)
		}
		rp["schedulingPolicy"] = sp
	}
	return rp
}

func (g *generator) replicaSpec(replicas int) map[string]any {
	template := map[string]any{"spec": g.podSpec()}
	if g.maybe() {
		template["metadata"] = map[string]any{
			"labels":      map[string]any{"app": "mpi"},
			"annotations": map[string]any{"sidecar.istio.io/inject": "false"},
		}
	}
	return map[string]any{
		"replicas":      replicas,
		"restartPolicy": g.pick("Never", "OnFailure"),
		"template":      template,
	}
}

func (g *generator) podSpec() map[string]any {
	pod := map[string]any{}
	var volumes []any
	var mounts []string
	for i := range g.r.IntN(3) {
		name := fmt.Sprintf("vol-%d", i)
		v := map[string]any{"name": name}
		switch g.r.IntN(3) {
		case 0:
			ed := map[string]any{}
			if g.maybe() {
				ed["sizeLimit"] = g.pick(memories...)
			}
			v["emptyDir"] = ed
		case 1:
			cm := map[string]any{}
			if g.maybe() {
				cm["name"] = "config"
			}
			v["configMap"] = cm
		default:
			v["secret"] = map[string]any{"secretName": "ssh"}
		}
		volumes = append(volumes, v)
		mounts = append(mounts, name)
	}
	if volumes != nil {
		pod["volumes"] = volumes
	}
	var containers []any
	for i := range 1 + g.r.IntN(3) {
		containers = append(containers, g.container(fmt.Sprintf("c%d", i), mounts))
	}
	pod["containers"] = containers
	if g.r.IntN(4) == 0 {
		pod["initContainers"] = []any{g.container("init", nil)}
	}
	if g.r.IntN(4) == 0 {
		secret := map[string]any{}
		if g.maybe() {
			secret["name"] = "regcred"
		}
		pod["imagePullSecrets"] = []any{secret}
	}
	if g.r.IntN(4) == 0 {
		pod["nodeSelector"] = map[string]any{"kubernetes.io/arch": g.pick("amd64", "arm64")}
	}
	return pod
}

func (g *generator) container(name string, mounts []string) map[string]any {
	c := map[string]any{"name": name, "image": g.pick("mpioperator/mpi-pi:openmpi", "busybox:1.36")}
	if g.maybe() {
		c["command"] = []any{"mpirun"}
		c["args"] = []any{"-n", "2", "/home/mpiuser/pi"}
	}
	if g.maybe() {
		var env []any
		for i := range 1 + g.r.IntN(3) {
			e := map[string]any{"name": fmt.Sprintf("VAR_%d", i)}
			switch g.r.IntN(3) {
			case 0:
				e["value"] = g.pick("", "1", "x y")
			case 1:
				ref := map[string]any{"key": "k"}
				if g.maybe() {
					ref["name"] = "cm"
				}
				e["valueFrom"] = map[string]any{g.pick("configMapKeyRef", "secretKeyRef"): ref}
			default:
				e["valueFrom"] = map[string]any{"fieldRef": map[string]any{"apiVersion": "v1", "fieldPath": "metadata.name"}}
			}
			env = append(env, e)
		}
		c["env"] = env
	}
	if g.r.IntN(4) == 0 {
		ref := map[string]any{}
		if g.maybe() {
			ref["name"] = "settings"
		}
		c["envFrom"] = []any{map[string]any{g.pick("configMapRef", "secretRef"): ref}}
	}
	if g.maybe() {
		var ports []any
		for i := range 1 + g.r.IntN(2) {
			p := map[string]any{"containerPort": 2222 + i}
			if g.maybe() {
				p["protocol"] = g.pick("TCP", "UDP")
			}
			if g.maybe() {
				p["name"] = fmt.Sprintf("p%d", i)
			}
			ports = append(ports, p)
		}
		c["ports"] = ports
	}
	if g.maybe() {
		res := map[string]any{}
		// cpus is in ascending order: a request at or below the limit's
		// index is valid for pod validation.
		limit := len(cpus) - 1
		if g.maybe() {
			limit = g.r.IntN(len(cpus))
			res["limits"] = map[string]any{"cpu": cpus[limit], "memory": g.pick(memories...)}
		}
		if g.maybe() {
			res["requests"] = map[string]any{"cpu": cpus[g.r.IntN(limit+1)]}
		}
		c["resources"] = res
	}
	var vm []any
	for i, m := range mounts {
		if g.maybe() {
			vm = append(vm, map[string]any{"name": m, "mountPath": fmt.Sprintf("/mnt/%d", i)})
		}
	}
	if vm != nil {
		c["volumeMounts"] = vm
	}
	if g.r.IntN(4) == 0 {
		c["securityContext"] = map[string]any{"runAsUser": 1000}
	}
	return c
}

// status is what a controller would write: conditions (Suspended among
// them), replica statuses and times.
func (g *generator) status() map[string]any {
	ts := func(h int) string { return fmt.Sprintf("2026-07-0%dT%02d:04:05Z", 1+g.r.IntN(9), h) }
	cond := func(typ, status, reason string) map[string]any {
		c := map[string]any{"type": typ, "status": status}
		if g.maybe() {
			c["reason"] = reason
			c["message"] = "MPIJob " + reason
		}
		if g.maybe() {
			c["lastUpdateTime"] = ts(1)
			c["lastTransitionTime"] = ts(2)
		}
		return c
	}
	conds := []any{cond("Created", "True", "MPIJobCreated")}
	if g.maybe() {
		conds = append(conds, cond("Suspended", g.pick("True", "False"), "MPIJobSuspended"))
	}
	if g.maybe() {
		conds = append(conds, cond("Running", g.pick("True", "False"), "MPIJobRunning"))
	}
	worker := map[string]any{}
	if g.maybe() {
		worker["active"] = g.r.IntN(16)
	}
	if g.maybe() {
		worker["failed"] = g.r.IntN(3)
	}
	if g.maybe() {
		worker["selector"] = "training.kubeflow.org/job-role=worker"
	}
	st := map[string]any{
		"conditions":      conds,
		"replicaStatuses": map[string]any{"Launcher": map[string]any{"active": 1}, "Worker": worker},
	}
	if g.maybe() {
		st["startTime"] = ts(3)
	}
	if g.maybe() {
		st["lastReconcileTime"] = ts(4)
	}
	if g.maybe() {
		st["completionTime"] = ts(5)
	}
	return st
}
