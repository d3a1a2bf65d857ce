package install

import (
	"math/rand"
	"testing"

	apitestingfuzzer "k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	kubeflowfuzzer "github.com/mpijob/mpijob-apiserver/api/kubeflow/fuzzer"
)

// TestRoundTripTypes fills hub objects and sends them hub -> v1alpha2 ->
// JSON -> v1alpha2 -> hub: the generated conversions and the JSON tags
// together must lose nothing a client wrote.
func TestRoundTripTypes(t *testing.T) {
	roundtrip.RoundTripTestForAPIGroup(t, Install, kubeflowfuzzer.Funcs)
}

// TestRoundTripExternalTypes fills v1alpha2 objects, as a client would send
// them, and sends them v1alpha2 -> JSON -> v1alpha2. There is no protobuf
// encoding for this group (etcd holds JSON), so it is not tested.
func TestRoundTripExternalTypes(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	seed := rand.Int63()
	t.Logf("fuzzer seed %d", seed)
	f := apitestingfuzzer.FuzzerFor(
		apitestingfuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, kubeflowfuzzer.Funcs),
		rand.NewSource(seed),
		codecs,
	)
	roundtrip.RoundTripExternalTypesWithoutProtobuf(t, scheme, codecs, f, nil)
}
