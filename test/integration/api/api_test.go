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

package api

import (
	"testing"

	"github.com/mpijob/mpijob-apiserver/pkg/cmd/server"
	"github.com/mpijob/mpijob-apiserver/test/inprocess"
)

// TestAPI runs every test that can share one server: each group works in its
// own namespaces. The server also accepts a static token file user and client
// certificates of a test CA, for the authentication tests.
func TestAPI(t *testing.T) {
	creds := newTestCredentials(t)
	s := inprocess.Start(t, func(o *server.Options) {
		o.Authentication.TokenAuthFile = creds.tokenFile
		o.Authentication.Delegating.ClientCert.ClientCA = creds.caFile
	})
	e := newEnv(t, s)

	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, e) })
	t.Run("StatusSubresource", func(t *testing.T) { testStatusSubresource(t, e) })
	t.Run("Patch", func(t *testing.T) { testPatch(t, e) })
	t.Run("FieldValidation", func(t *testing.T) { testFieldValidation(t, e) })
	t.Run("DryRun", func(t *testing.T) { testDryRun(t, e) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, e) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, e) })
	t.Run("Discovery", func(t *testing.T) { testDiscovery(t, e) })
	t.Run("OpenAPI", func(t *testing.T) { testOpenAPI(t, e) })
	t.Run("Table", func(t *testing.T) { testTable(t, e) })
	t.Run("ContentNegotiation", func(t *testing.T) { testContentNegotiation(t, e) })
	t.Run("Protobuf", func(t *testing.T) { testProtobuf(t, e) })
	t.Run("ListCache", func(t *testing.T) { testListCache(t, e) })
	t.Run("ListCompression", func(t *testing.T) { testListCompression(t, e) })
	t.Run("Auth", func(t *testing.T) { testAuth(t, e, creds) })
}
