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

package harness

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// rootModule is the module line of the repository root's go.mod.
const rootModule = "module github.com/mpijob/mpijob-apiserver"

var repoRoot struct {
	once sync.Once
	dir  string
	err  error
}

// RepoRoot is the repository's root: the nearest directory above the working
// directory whose go.mod is the root module's. Tests run in their package's
// directory, so this works from every module of the repository.
func RepoRoot() (string, error) {
	repoRoot.once.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			repoRoot.err = err
			return
		}
		for {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && declaresRootModule(data) {
				repoRoot.dir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				repoRoot.err = errors.New("harness: no repository root (the go.mod of github.com/mpijob/mpijob-apiserver) above the working directory")
				return
			}
			dir = parent
		}
	})
	return repoRoot.dir, repoRoot.err
}

func declaresRootModule(goMod []byte) bool {
	for _, line := range bytes.Split(goMod, []byte("\n")) {
		if string(bytes.TrimSpace(line)) == rootModule {
			return true
		}
	}
	return false
}

// RepoPath is a path inside the repository, from its root.
func RepoPath(elem ...string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{root}, elem...)...), nil
}
