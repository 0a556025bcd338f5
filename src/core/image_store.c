#include "config.h"

#include "image_store.h"

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "images.pb-c.h"
#include "util.h"

void
lc_image_clear(struct lc_image *img)
{
  free(img->name);
  lc_descriptor_clear(&img->target);
  lc_labels_free(img->labels, img->n_labels);
  *img = (struct lc_image){0};
}

void
lc_image_free_array(struct lc_image *arr, size_t n)
{
  for (size_t i = 0; i < n; i++)
    lc_image_clear(&arr[i]);
  free(arr);
}

static void
image_from_pb(const Lcpb__Image *pi, struct lc_image *out)
{
  *out = (struct lc_image){0};
  out->name = xstrdup(pi->name ? pi->name : "");
  if (pi->target != NULL) {
    struct lc_descriptor d = {pi->target->media_type, pi->target->digest, pi->target->size};
    lc_descriptor_copy(&out->target, &d);
  } else {
    out->target.media_type = xstrdup("");
    out->target.digest = xstrdup("");
  }
  out->n_labels = pi->n_labels;
  out->labels = lc_labels_from_pb((void *const *)pi->labels, pi->n_labels);
  out->created_at = lc_time_from_pb(pi->created_at);
  out->updated_at = lc_time_from_pb(pi->updated_at);
}

int
lc_image_get(lc_client *c, const char *name, struct lc_image *out, lc_error **err)
{
  Lcpb__GetImageRequest req = LCPB__GET_IMAGE_REQUEST__INIT;
  req.name = MUT(name);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_IMAGES "Get", &req.base, &lcpb__get_image_response__descriptor, &resp,
                   err) < 0)
    return -1;
  const Lcpb__Image *pi = ((Lcpb__GetImageResponse *)resp)->image;
  int rv = 0;
  if (pi == NULL)
    rv = lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                      "protocol error: Images.Get answered without an image");
  else
    image_from_pb(pi, out);
  protobuf_c_message_free_unpacked(resp, NULL);
  return rv;
}

static int
by_name(const void *a, const void *b)
{
  return strcmp(((const struct lc_image *)a)->name, ((const struct lc_image *)b)->name);
}

int
lc_image_list(lc_client *c, const char *const *filters, size_t n_filters, struct lc_image **out,
              size_t *n, lc_error **err)
{
  Lcpb__ListImagesRequest req = LCPB__LIST_IMAGES_REQUEST__INIT;
  req.n_filters = n_filters;
  req.filters = (char **)filters;
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_IMAGES "List", &req.base, &lcpb__list_images_response__descriptor,
                   &resp, err) < 0)
    return -1;
  const Lcpb__ListImagesResponse *r = (Lcpb__ListImagesResponse *)resp;
  *out = xcalloc(r->n_images ? r->n_images : 1, sizeof(**out));
  *n = r->n_images;
  for (size_t i = 0; i < r->n_images; i++)
    image_from_pb(r->images[i], &(*out)[i]);
  protobuf_c_message_free_unpacked(resp, NULL);
  qsort(*out, *n, sizeof(**out), by_name);
  return 0;
}

/* Create first; a name that exists already is updated in place, which is
 * what re-pulling or re-tagging means. */
int
lc_image_put(lc_client *c, const struct lc_image *img, lc_error **err)
{
  cleanup_free void **labels =
      lc_pb_string_map(&lcpb__image__labels_entry__descriptor, img->labels, img->n_labels);
  Lcpb__Descriptor target = LCPB__DESCRIPTOR__INIT;
  target.media_type = img->target.media_type;
  target.digest = img->target.digest;
  target.size = img->target.size;
  Lcpb__Image pi = LCPB__IMAGE__INIT;
  pi.name = img->name;
  pi.target = &target;
  pi.n_labels = img->n_labels;
  pi.labels = (Lcpb__Image__LabelsEntry **)labels;
  Lcpb__CreateImageRequest create = LCPB__CREATE_IMAGE_REQUEST__INIT;
  create.image = &pi;
  lc_error *e = NULL;
  if (lc_unary_one(c, LC_SVC_IMAGES "Create", &create.base, NULL, NULL, &e) == 0)
    return 0;
  if (!(e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_ALREADY_EXISTS))
    return lc_error_pass(err, e);
  lc_error_free(e);
  char *paths[] = {MUT("target"), MUT("labels")};
  Lcpb__FieldMask mask = LCPB__FIELD_MASK__INIT;
  mask.n_paths = 2;
  mask.paths = paths;
  Lcpb__UpdateImageRequest update = LCPB__UPDATE_IMAGE_REQUEST__INIT;
  update.image = &pi;
  update.update_mask = &mask;
  return lc_unary_one(c, LC_SVC_IMAGES "Update", &update.base, NULL, NULL, err);
}

int
lc_image_delete(lc_client *c, const char *name, bool sync, lc_error **err)
{
  Lcpb__DeleteImageRequest req = LCPB__DELETE_IMAGE_REQUEST__INIT;
  req.name = MUT(name);
  req.sync = sync;
  return lc_unary_one(c, LC_SVC_IMAGES "Delete", &req.base, NULL, NULL, err);
}
