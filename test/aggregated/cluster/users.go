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

package cluster

// User is a static-token user of kube-apiserver (--token-auth-file).
// system:authenticated is added by kube-apiserver itself.
type User struct {
	Name   string
	UID    string
	Groups []string
	Token  string
}

// DefaultUsers are alice, bob and nobody (no groups, no bindings) and the
// server's identity.
func DefaultUsers() []User {
	return []User{
		{Name: "alice", UID: "uid-alice", Token: "token-alice"},
		{Name: "bob", UID: "uid-bob", Token: "token-bob"},
		{Name: "nobody", UID: "uid-nobody", Token: "token-nobody"},
		{Name: ServerUser, UID: "uid-mpijob-apiserver", Token: "token-mpijob-apiserver",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ServerNamespace}},
	}
}
