// forge-k8s-check: checks rendered Kubernetes objects (a `kustomize build` output, on stdin)
// against the Kubernetes API types, strictly: each object is decoded into its typed struct from
// k8s.io/api (or k8s.io/apiextensions-apiserver) with unknown fields refused, and Argo CD's
// kinds (argoproj.io) are walked against the openAPIV3Schema of Argo CD's published CRDs
// (--argocd-crds, the manifests/crds folder of github.com/argoproj/argo-cd from the Go module
// proxy). A kind it has no type for is an error: nothing passes unchecked.
//
//	kustomize build deploy/overlays/example | forge-k8s-check --argocd-crds <dir>
//
// Prints one line per object checked ("<apiVersion> <kind> <namespace>/<name>"); on any
// problem prints each to stderr and exits 1.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// typed answers a fresh typed object for a built-in kind.
var typed = map[string]func() any{
	"v1/ConfigMap":                                     func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                        func() any { return &corev1.Secret{} },
	"v1/Service":                                       func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                                func() any { return &corev1.ServiceAccount{} },
	"v1/Namespace":                                     func() any { return &corev1.Namespace{} },
	"apps/v1/Deployment":                               func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                              func() any { return &appsv1.StatefulSet{} },
	"apps/v1/DaemonSet":                                func() any { return &appsv1.DaemonSet{} },
	"networking.k8s.io/v1/NetworkPolicy":               func() any { return &networkingv1.NetworkPolicy{} },
	"networking.k8s.io/v1/Ingress":                     func() any { return &networkingv1.Ingress{} },
	"policy/v1/PodDisruptionBudget":                    func() any { return &policyv1.PodDisruptionBudget{} },
	"rbac.authorization.k8s.io/v1/Role":                func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":         func() any { return &rbacv1.RoleBinding{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":         func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding":  func() any { return &rbacv1.ClusterRoleBinding{} },
	"apiextensions.k8s.io/v1/CustomResourceDefinition": func() any { return &apiextv1.CustomResourceDefinition{} },
}

func main() {
	crdDir := flag.String("argocd-crds", "", "folder of Argo CD's CRD manifests (manifests/crds)")
	flag.Parse()
	schemas, err := loadSchemas(*crdDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "forge-k8s-check: %v\n", err)
		os.Exit(2)
	}
	in, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintf(os.Stderr, "forge-k8s-check: reading stdin: %v\n", err)
		os.Exit(2)
	}
	problems := 0
	count := 0
	for i, doc := range splitDocs(in) {
		var head struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Metadata   metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			fmt.Fprintf(os.Stderr, "object %d: not YAML: %v\n", i+1, err)
			problems++
			continue
		}
		gvk := head.APIVersion + "/" + head.Kind
		name := fmt.Sprintf("%s %s %s/%s", head.APIVersion, head.Kind, head.Metadata.Namespace, head.Metadata.Name)
		count++
		var errs []string
		if mk, ok := typed[gvk]; ok {
			if err := yaml.UnmarshalStrict(doc, mk()); err != nil {
				errs = append(errs, err.Error())
			}
		} else if s, ok := schemas[gvk]; ok {
			var obj map[string]any
			if err := yaml.Unmarshal(doc, &obj); err != nil {
				errs = append(errs, err.Error())
			} else {
				errs = checkCustom(obj, s)
			}
		} else {
			errs = append(errs, "no Kubernetes API type or published CRD schema is known for "+gvk)
		}
		if head.Metadata.Name == "" {
			errs = append(errs, "metadata.name is empty")
		}
		for _, e := range errs {
			fmt.Fprintf(os.Stderr, "%s: %s\n", name, e)
			problems++
		}
		fmt.Println(name)
	}
	if count == 0 {
		fmt.Fprintln(os.Stderr, "forge-k8s-check: no objects on stdin")
		os.Exit(1)
	}
	if problems > 0 {
		os.Exit(1)
	}
}

// splitDocs splits a YAML stream on its "---" separator lines, dropping empty documents.
func splitDocs(in []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(string(in), "\n") {
		if strings.TrimRight(line, " \r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return docs
}

// loadSchemas reads every CRD in dir (strictly, as apiextensions/v1) and answers the schema of
// each served version by "<group>/<version>/<kind>".
func loadSchemas(dir string) (map[string]*apiextv1.JSONSchemaProps, error) {
	out := map[string]*apiextv1.JSONSchemaProps{}
	if dir == "" {
		return out, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*-crd.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no *-crd.yaml in %s", dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Served && v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
				out[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema
			}
		}
	}
	return out, nil
}

// checkCustom checks a custom resource: metadata strictly as ObjectMeta, the rest against the schema.
func checkCustom(obj map[string]any, s *apiextv1.JSONSchemaProps) []string {
	var errs []string
	if md, ok := obj["metadata"]; ok {
		b, _ := yaml.Marshal(md)
		if err := yaml.UnmarshalStrict(b, &metav1.ObjectMeta{}); err != nil {
			errs = append(errs, "metadata: "+err.Error())
		}
	}
	body := map[string]any{}
	for k, v := range obj {
		if k != "metadata" {
			body[k] = v
		}
	}
	rest := *s
	rest.Required = nil
	for _, r := range s.Required {
		if r != "metadata" {
			rest.Required = append(rest.Required, r)
		}
	}
	rest.Properties = map[string]apiextv1.JSONSchemaProps{}
	for k, v := range s.Properties {
		if k != "metadata" {
			rest.Properties[k] = v
		}
	}
	return append(errs, walk(body, &rest, "")...)
}

// walk checks a decoded value against a structural schema: types, required and unknown fields.
func walk(v any, s *apiextv1.JSONSchemaProps, path string) []string {
	at := path
	if at == "" {
		at = "."
	}
	if v == nil {
		if s.Nullable {
			return nil
		}
		return []string{at + ": null is not allowed"}
	}
	if s.XIntOrString {
		switch v.(type) {
		case string, float64, int64:
			return nil
		}
		return []string{fmt.Sprintf("%s: must be an integer or a string, got %T", at, v)}
	}
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: must be an object, got %T", at, v)}
		}
		var errs []string
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required field %q is missing", at, r))
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := s.Properties[k]; ok {
				errs = append(errs, walk(m[k], &p, path+"."+k)...)
			} else if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
				errs = append(errs, walk(m[k], s.AdditionalProperties.Schema, path+"."+k)...)
			} else if s.AdditionalProperties != nil && s.AdditionalProperties.Allows {
				continue
			} else if s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields {
				continue
			} else if len(s.Properties) == 0 && s.AdditionalProperties == nil {
				continue // a free-form object
			} else {
				errs = append(errs, fmt.Sprintf("%s: unknown field %q", at, k))
			}
		}
		return errs
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: must be an array, got %T", at, v)}
		}
		var errs []string
		if s.Items != nil && s.Items.Schema != nil {
			for i, e := range a {
				errs = append(errs, walk(e, s.Items.Schema, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
		return errs
	case "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: must be a string, got %T", at, v)}
		}
		if len(s.Enum) > 0 {
			for _, e := range s.Enum {
				if string(e.Raw) == fmt.Sprintf("%q", v) {
					return nil
				}
			}
			return []string{fmt.Sprintf("%s: %q is not one of the allowed values", at, v)}
		}
	case "integer", "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: must be a number, got %T", at, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: must be a boolean, got %T", at, v)}
		}
	}
	return nil
}
