#include "lib/push_release_document.h"

#include <errno.h>

#include "lib/error.h"
#include "lib/json_member.h"

static json_object *member_object(json_object *obj, const char *name) {
        json_object *value;

        if (!obj || !json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, name, &value) ||
            !json_object_is_type(value, json_type_object))
                return NULL;
        return value;
}

int push_release_document_parse(json_object *doc, struct push_release_document *out) {
        json_object *attrs = member_object(member_object(doc, "data"), "attributes"), *ukey, *vkey, *version;
        int ret;

        *out = (struct push_release_document){ 0 };
        if (!attrs)
                return vm_error(-EBADMSG, "vmattest release: no data/attributes object");
        if (!json_object_object_get_ex(attrs, "version", &version) || !json_object_is_type(version, json_type_int))
                return vm_error(-EBADMSG, "vmattest release: data/attributes/version: missing or not an integer");
        if (json_object_get_int64(version) != PUSH_RELEASE_DOCUMENT_VERSION)
                return vm_error(-EPROTONOSUPPORT, "vmattest release: version %lld (this agent reads version %d)",
                                (long long)json_object_get_int64(version), PUSH_RELEASE_DOCUMENT_VERSION);
        if (!(ukey = member_object(attrs, "ukey")) || !(vkey = member_object(attrs, "vkey")))
                return vm_error(-EBADMSG, "vmattest release: data/attributes/ukey and vkey: missing or not objects");
        ret = json_member_string(ukey, "encrypted_key", PUSH_RELEASE_WRAPPED_MAX, false, &out->ukey);
        if (ret >= 0)
                ret = json_member_string(ukey, "auth_tag", 96, false, &out->auth_tag);
        if (ret >= 0)
                ret = json_member_string(ukey, "payload", PUSH_RELEASE_PAYLOAD_MAX, true, &out->payload);
        if (ret >= 0)
                ret = json_member_string(vkey, "encrypted_key", PUSH_RELEASE_WRAPPED_MAX, false, &out->vkey);
        if (ret < 0)
                return vm_error(-EBADMSG, "vmattest release: %s", vm_error_detail(ret));
        return 0;
}
