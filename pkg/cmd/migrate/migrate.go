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

package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow/v1alpha2"
)

const (
	// pageSize bounds the memory a page of the list takes, on both sides.
	pageSize = "500"
	// attempts bounds the re-reads of a job that keeps being changed; the
	// command can be run again for what it could not finish.
	attempts = 10
)

// migrator rewrites MPIJobs with raw JSON: the PUT sends exactly the bytes
// the GET returned, so no client-side type can drop or reshape a field.
type migrator struct {
	discovery *discovery.DiscoveryClient
	client    rest.Interface
}

func newMigrator(cfg *rest.Config) (*migrator, error) {
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &migrator{discovery: d, client: d.RESTClient()}, nil
}

type counts struct {
	rewritten, unchanged, gone int
	failed                     []string
}

func (m *migrator) run(ctx context.Context, out io.Writer) error {
	gv, err := m.preferredVersion()
	if err != nil {
		return err
	}
	var c counts
	for cont := ""; ; {
		req := m.client.Get().AbsPath("/apis", gv, "mpijobs").Param("limit", pageSize).
			SetHeader("Accept", runtime.ContentTypeJSON)
		if cont != "" {
			req = req.Param("continue", cont)
		}
		raw, err := req.DoRaw(ctx)
		if err != nil {
			// An expired continue token included: nothing is half-done, and
			// running the command again skips what it already rewrote.
			return fmt.Errorf("listing MPIJobs in %s: %w", gv, err)
		}
		var list struct {
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
			Items []objectHeader `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("listing MPIJobs in %s: %w", gv, err)
		}
		for _, item := range list.Items {
			key := item.Metadata.Namespace + "/" + item.Metadata.Name
			if err := m.rewrite(ctx, gv, item, &c); err != nil {
				if ctx.Err() != nil {
					return err
				}
				fmt.Fprintf(out, "failed %s: %v\n", key, err)
				c.failed = append(c.failed, key)
			}
		}
		if cont = list.Metadata.Continue; cont == "" {
			break
		}
	}
	fmt.Fprintf(out, "%d MPIJobs rewritten, %d already in the storage version, %d deleted meanwhile, %d failed (via %s)\n",
		c.rewritten, c.unchanged, c.gone, len(c.failed), gv)
	if len(c.failed) > 0 {
		return fmt.Errorf("%d MPIJobs were not rewritten (see the lines above); run migrate-storage again", len(c.failed))
	}
	return nil
}

// preferredVersion is the group version of kubeflow.org the server prefers,
// as discovery says: the one every replica serves (a version turned off by
// --runtime-config is never preferred).
func (m *migrator) preferredVersion() (string, error) {
	groups, err := m.discovery.ServerGroups()
	if err != nil {
		return "", fmt.Errorf("discovering the served versions: %w", err)
	}
	for _, g := range groups.Groups {
		if g.Name == v1alpha2.GroupName {
			return g.PreferredVersion.GroupVersion, nil
		}
	}
	return "", fmt.Errorf("the server serves no version of %s", v1alpha2.GroupName)
}

type objectHeader struct {
	Metadata struct {
		Namespace       string `json:"namespace"`
		Name            string `json:"name"`
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
}

// rewrite writes one job back as read, with the resourceVersion it was read
// at; after a conflict it reads the job again. The server skips a write whose
// bytes equal the stored ones, so an unchanged resourceVersion means the job
// was already stored in the current version.
func (m *migrator) rewrite(ctx context.Context, gv string, item objectHeader, c *counts) error {
	p := path.Join("/apis", gv, "namespaces", item.Metadata.Namespace, "mpijobs", item.Metadata.Name)
	for range attempts {
		body, err := m.client.Get().AbsPath(p).SetHeader("Accept", runtime.ContentTypeJSON).DoRaw(ctx)
		if apierrors.IsNotFound(err) {
			c.gone++
			return nil
		}
		if err != nil {
			return err
		}
		var before objectHeader
		if err := json.Unmarshal(body, &before); err != nil {
			return err
		}
		raw, err := m.client.Put().AbsPath(p).Param("fieldManager", FieldManager).
			SetHeader("Content-Type", runtime.ContentTypeJSON).SetHeader("Accept", runtime.ContentTypeJSON).
			Body(body).DoRaw(ctx)
		switch {
		case apierrors.IsConflict(err):
			continue
		case apierrors.IsNotFound(err):
			c.gone++
			return nil
		case err != nil:
			return err
		}
		var after objectHeader
		if err := json.Unmarshal(raw, &after); err != nil {
			return err
		}
		if after.Metadata.ResourceVersion == before.Metadata.ResourceVersion {
			c.unchanged++
		} else {
			c.rewritten++
		}
		return nil
	}
	return errors.New("changed by others on every attempt")
}
