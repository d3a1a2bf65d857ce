package v1alpha2

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mpijob/mpijob-apiserver/api/kubeflow"
)

// addFieldLabelConversions declares the selectable fields on the scheme side:
// the request handler converts a field selector through it before the
// storage sees it, so an unknown field is a 400 there.
func addFieldLabelConversions(scheme *runtime.Scheme) error {
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("MPIJob"),
		func(label, value string) (string, string, error) {
			if kubeflow.IsSelectableField(label) {
				return label, value, nil
			}
			return "", "", fmt.Errorf("%s", kubeflow.UnsupportedFieldMessage(label))
		})
}
